// Package model loads config documents of every form (the SidecarInjector
// kind, the old injector's sidecar and mutation files, the old Helm chart's
// ConfigMap) into the one model the engine injects from: mutations with
// their sidecar definitions resolved and compiled. Everything that can be
// checked is checked at load; problems carry their file, line and column.
package model
