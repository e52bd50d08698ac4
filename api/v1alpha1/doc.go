// Package v1alpha1 is the sidecar injector's configuration API: the
// SidecarInjector kind, apiVersion sidecar-injector.dev/v1alpha1. Its
// types are what a config document means; the injector loads documents
// into them strictly (an unknown field is an error, with its line and the
// nearest valid name).
//
// A SidecarInjector has two halves, kept apart so that teams can own them
// independently: the named [Sidecars] (what can be injected) and the
// [Mutation] list (which pod annotation injects which of them, by name).
// Several documents load together: their sidecars and mutations merge.
//
// The Salesforce injector's files load into the same types, unchanged: its
// sidecar file is a [Sidecars] at the top level of the file, its mutation
// file a list of [Mutation] under mutationConfigs, and its Helm chart's
// ConfigMap holds both files under the data keys sidecarconfig.yaml and
// mutationconfig.yaml.
//
// docs/configuration.md in the repository gives every rule of injection.
//
// +groupName=sidecar-injector.dev
package v1alpha1
