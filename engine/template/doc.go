// Package template is the template language of sidecar definitions.
package template
