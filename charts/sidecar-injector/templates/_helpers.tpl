{{/* The release's name for its objects, at most 63 characters. */}}
{{- define "sidecar-injector.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "sidecar-injector.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "sidecar-injector.labels" -}}
{{ include "sidecar-injector.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "sidecar-injector.configMapName" -}}
{{- .Values.config.existingConfigMap | default (printf "%s-config" (include "sidecar-injector.fullname" .)) -}}
{{- end -}}

{{- define "sidecar-injector.tlsSecretName" -}}
{{- printf "%s-tls" (include "sidecar-injector.fullname" .) -}}
{{- end -}}

{{/* The Service's DNS names, which the serving certificate must carry. */}}
{{- define "sidecar-injector.dnsNames" -}}
{{- $svc := printf "%s.%s.svc" (include "sidecar-injector.fullname" .) .Release.Namespace -}}
{{- list $svc (printf "%s.cluster.local" $svc) | toJson -}}
{{- end -}}

{{/*
The config's source: "inline", "existing" or "legacy". Exactly one must be
chosen: a ConfigMap name or legacy files replace the inline mutations.
*/}}
{{- define "sidecar-injector.configSource" -}}
{{- $c := .Values.config -}}
{{- $legacy := or $c.legacy.sidecarConfig $c.legacy.mutationConfig -}}
{{- if and $c.existingConfigMap $legacy -}}
{{- fail "config: set existingConfigMap or legacy, not both" -}}
{{- else if $c.existingConfigMap -}}existing
{{- else if $legacy -}}
{{- if not (and $c.legacy.sidecarConfig $c.legacy.mutationConfig) -}}
{{- fail "config.legacy: set both sidecarConfig and mutationConfig (the old injector's two files)" -}}
{{- end -}}legacy
{{- else -}}
{{- if and $c.sidecars (not $c.mutations) -}}
{{- fail "config.mutations is empty: a config with no mutations injects nothing (or set config.existingConfigMap or config.legacy)" -}}
{{- end -}}inline
{{- end -}}
{{- end -}}

{{/*
The inline config's sidecars and mutations, as JSON: the values', or with
neither set, the example's (kept here, not in values.yaml, so that a user's
config is never merged with it).
*/}}
{{- define "sidecar-injector.inlineConfig" -}}
{{- if or .Values.config.sidecars .Values.config.mutations -}}
{{- dict "sidecars" .Values.config.sidecars "mutations" .Values.config.mutations | toJson -}}
{{- else -}}
{{- include "sidecar-injector.exampleConfig" . | fromYaml | toJson -}}
{{- end -}}
{{- end -}}

{{- define "sidecar-injector.exampleConfig" -}}
sidecars:
  containers:
  - name: log-shipper
    image: fluent/fluent-bit:3.1
    args: ['--tag={% label "app.kubernetes.io/name" "unknown" %}']
    resources:
      requests: {cpu: 10m, memory: 32Mi}
      limits: {memory: 64Mi}
    volumeMounts:
    - name: log-spool
      mountPath: /var/log/spool
      readOnly: true
  volumes:
  - name: log-spool
    emptyDir: {}
  volumeMounts:
  - name: log-spool
    mountPath: /var/log/spool
mutations:
# A pod labelled (or annotated) logging.example.com/inject: "true" gets a
# log shipper. labelTrigger lets the webhook configuration select those
# pods by label: the others never reach the webhook.
- name: logging
  annotationNamespace: logging.example.com
  annotationTrigger: inject
  labelTrigger: true
  containers: [log-shipper]
  volumes: [log-spool]
  volumeMounts: [log-spool]
{{- end -}}

{{/*
The mutations the chart can read (inline or legacy), as JSON: {"m": [...]},
or {"m": null} when the config is an existing ConfigMap.
*/}}
{{- define "sidecar-injector.mutations" -}}
{{- $source := include "sidecar-injector.configSource" . -}}
{{- if eq $source "inline" -}}
{{- dict "m" (include "sidecar-injector.inlineConfig" . | fromJson).mutations | toJson -}}
{{- else if eq $source "legacy" -}}
{{- $doc := fromYaml .Values.config.legacy.mutationConfig -}}
{{- if hasKey $doc "Error" -}}
{{- fail (printf "config.legacy.mutationConfig does not read as YAML: %s" $doc.Error) -}}
{{- end -}}
{{- dict "m" ($doc.mutationConfigs | default list) | toJson -}}
{{- else -}}
{{- dict "m" nil | toJson -}}
{{- end -}}
{{- end -}}

{{/*
The object selectors of the webhook entries, as JSON: {"s": [selector, ...]}.
An explicit webhook.objectSelector is the one entry's. Else, where every
mutation reads its trigger from labels, one entry per trigger key: a key
with an inject-by-default mutation selects the pods that do not opt out,
any other key the pods that opt in. Else one entry with no selector: every
pod.
*/}}
{{- define "sidecar-injector.objectSelectors" -}}
{{- if .Values.webhook.objectSelector -}}
{{- dict "s" (list .Values.webhook.objectSelector) | toJson -}}
{{- else -}}
{{- $mutations := (include "sidecar-injector.mutations" . | fromJson).m -}}
{{- $allLabel := and $mutations true -}}
{{- $keys := list -}}
{{- $defaults := dict -}}
{{- range $mutations -}}
{{- if not .labelTrigger -}}{{- $allLabel = false -}}{{- end -}}
{{- $key := printf "%s/%s" .annotationNamespace .annotationTrigger -}}
{{- $keys = append $keys $key | uniq -}}
{{- if .injectByDefault -}}{{- $_ := set $defaults $key true -}}{{- end -}}
{{- end -}}
{{- if $allLabel -}}
{{- $selectors := list -}}
{{- range $keys -}}
{{- if hasKey $defaults . -}}
{{- $selectors = append $selectors (dict "matchExpressions" (list (dict "key" . "operator" "NotIn" "values" (list "false" "disabled")))) -}}
{{- else -}}
{{- $selectors = append $selectors (dict "matchExpressions" (list (dict "key" . "operator" "In" "values" (list "true" "enabled")))) -}}
{{- end -}}
{{- end -}}
{{- dict "s" $selectors | toJson -}}
{{- else -}}
{{- dict "s" (list dict) | toJson -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Whether namespaces must carry sidecar-injector.dev/injection: enabled. */}}
{{- define "sidecar-injector.requireEnabledLabel" -}}
{{- $v := .Values.webhook.namespaceSelector.requireEnabledLabel -}}
{{- if eq (toString $v) "auto" -}}
{{- $any := false -}}
{{- range (include "sidecar-injector.mutations" . | fromJson).m -}}
{{- if .injectByDefault -}}{{- $any = true -}}{{- end -}}
{{- end -}}
{{- if $any -}}true{{- end -}}
{{- else if $v -}}true
{{- end -}}
{{- end -}}

{{/*
The certificate the chart generates (certificate.source: chart), as JSON
{"ca", "crt", "key"} in PEM: the one in the release's Secret when it is
there and still names the Service (kept across upgrades), else a new CA and
serving certificate. Made once per render (the Secret and the webhook
configuration's caBundle must agree), kept in .Values for the render.
*/}}
{{- define "sidecar-injector.chartTLS" -}}
{{- if not (hasKey .Values "__chartTLS") -}}
{{- $name := include "sidecar-injector.tlsSecretName" . -}}
{{- $dnsNames := include "sidecar-injector.dnsNames" . | fromJsonArray -}}
{{- $tls := dict -}}
{{- $old := lookup "v1" "Secret" .Release.Namespace $name -}}
{{- if and $old $old.data (index $old.data "ca.crt") (index $old.data "tls.crt") (index $old.data "tls.key") -}}
{{- $crt := index $old.data "tls.crt" | b64dec -}}
{{- if eq (dig "metadata" "annotations" "sidecar-injector.dev/dns-names" "" $old) (join "," $dnsNames) -}}
{{- $tls = dict "ca" (index $old.data "ca.crt" | b64dec) "crt" $crt "key" (index $old.data "tls.key" | b64dec) -}}
{{- end -}}
{{- end -}}
{{- if not $tls -}}
{{- $days := int .Values.certificate.chart.validityDays -}}
{{- $ca := genCA (printf "%s-ca" (include "sidecar-injector.fullname" .)) $days -}}
{{- $cert := genSignedCert (first $dnsNames) nil $dnsNames $days $ca -}}
{{- $tls = dict "ca" $ca.Cert "crt" $cert.Cert "key" $cert.Key -}}
{{- end -}}
{{- $_ := set .Values "__chartTLS" $tls -}}
{{- end -}}
{{- toJson .Values.__chartTLS -}}
{{- end -}}
