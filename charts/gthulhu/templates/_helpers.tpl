{{/* Names: "<release>-<component>", cut to 63 characters (DNS label). */}}
{{- define "gthulhu.name" -}}
{{- printf "%s-%s" .root.Release.Name .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object of one component. */}}
{{- define "gthulhu.labels" -}}
{{ include "gthulhu.selectorLabels" . }}
app.kubernetes.io/part-of: gthulhu
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The labels a component's selector matches. The agents' name label is what the
coordinator's kubernetes.agent_selector looks for. */}}
{{- define "gthulhu.selectorLabels" -}}
app.kubernetes.io/name: gthulhu-{{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "gthulhu.image" -}}
{{- $tag := .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- printf "%s%s:%s" .root.Values.image.registry .image.repository $tag -}}
{{- end -}}

{{/* An INI file from a map of sections to maps of keys (sorted, as range sorts). Empty
values are left out: the program's default applies. */}}
{{- define "gthulhu.ini" -}}
{{- range $section, $keys := . }}
[{{ $section }}]
{{- range $key, $value := $keys }}
{{- if ne (toString $value) "" }}
{{ $key }} = {{ $value }}
{{- end }}
{{- end }}
{{ end -}}
{{- end -}}

{{- define "gthulhu.coordinatorTlsSecret" -}}
{{- .Values.tls.coordinatorSecret | default (include "gthulhu.name" (dict "root" . "component" "coordinator-tls")) -}}
{{- end -}}
{{- define "gthulhu.agentTlsSecret" -}}
{{- .Values.tls.agentSecret | default (include "gthulhu.name" (dict "root" . "component" "agent-tls")) -}}
{{- end -}}
{{- define "gthulhu.authSecret" -}}
{{- .Values.coordinator.auth.existingSecret | default (include "gthulhu.name" (dict "root" . "component" "coordinator-auth")) -}}
{{- end -}}

{{/* The Secret and key holding the MongoDB URI the coordinator uses. */}}
{{- define "gthulhu.mongoUriSecret" -}}
{{- if .Values.mongodb.enabled -}}
{{- .Values.mongodb.auth.existingSecret | default (include "gthulhu.name" (dict "root" . "component" "mongodb")) -}}
{{- else -}}
{{- .Values.mongodb.external.existingSecret | default (include "gthulhu.name" (dict "root" . "component" "mongodb-external")) -}}
{{- end -}}
{{- end -}}
{{- define "gthulhu.mongoUriKey" -}}
{{- if and (not .Values.mongodb.enabled) .Values.mongodb.external.existingSecret -}}
{{- .Values.mongodb.external.existingSecretKey -}}
{{- else -}}
mongodb-uri
{{- end -}}
{{- end -}}

{{/* A generated secret value that survives upgrades: the one in the live Secret when
there is one (lookup; empty under `helm template`), else a new one. */}}
{{- define "gthulhu.keep" -}}
{{- $live := lookup "v1" "Secret" .root.Release.Namespace .secret -}}
{{- if and $live (index ($live.data | default dict) .key) -}}
{{- index $live.data .key | b64dec -}}
{{- else -}}
{{- .generate -}}
{{- end -}}
{{- end -}}

{{/* Fails early with a message naming the value to fix. */}}
{{- define "gthulhu.validate" -}}
{{- if not (has .Values.tls.mode (list "secrets" "cert-manager")) -}}
{{- fail (printf "tls.mode must be \"secrets\" or \"cert-manager\", not %q" .Values.tls.mode) -}}
{{- end -}}
{{- if and (eq .Values.tls.mode "cert-manager") (empty .Values.tls.certManager.agentDnsNames) -}}
{{- fail "tls.certManager.agentDnsNames must list the node names (or wildcards) the agents run on: the coordinator checks the agent's certificate against its node name" -}}
{{- end -}}
{{- if and (not .Values.mongodb.enabled) (not .Values.mongodb.external.uri) (not .Values.mongodb.external.existingSecret) -}}
{{- fail "mongodb.enabled is false: set mongodb.external.uri or mongodb.external.existingSecret" -}}
{{- end -}}
{{- if and .Values.agent.probe.enabled (eq (int .Values.agent.probe.port) (int .Values.agent.port)) -}}
{{- fail "agent.probe.port must differ from agent.port: the probe listener is plain HTTP beside the mTLS API" -}}
{{- end -}}
{{- end -}}
