{{/*
The contract of docs/agents.md, in one place: agents, ports and A2A edges.
Names are fixed (`falconer-<agent>`): the ServiceAccount name is part of each
agent's SPIFFE identity, which peers authorize.
*/}}

{{- define "falconer.agentNames" -}}
detect coordinator analyse remediate notify
{{- end }}

{{/* Ports per agent (docs/agents.md "Processes and ports"). */}}
{{- define "falconer.ports" -}}
detect: {a2a: 7401, ops: 7501}
coordinator: {a2a: 7402, ops: 7502}
analyse: {a2a: 7403, ops: 7503}
remediate: {a2a: 7404, ops: 7504}
notify: {a2a: 7405, ops: 7505}
{{- end }}

{{/* Who calls whom over A2A (docs/agents.md "Edges"): caller -> callees. */}}
{{- define "falconer.edges" -}}
detect: [coordinator]
coordinator: [analyse, remediate, notify, detect]
analyse: [coordinator, detect]
remediate: []
notify: []
{{- end }}

{{- define "falconer.chart" -}}
{{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "falconer.labels" -}}
helm.sh/chart: {{ include "falconer.chart" . }}
app.kubernetes.io/name: falconer
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: falconer
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of one agent; call with (dict "root" $ "agent" "detect"). */}}
{{- define "falconer.selectorLabels" -}}
app.kubernetes.io/name: falconer
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .agent }}
{{- end }}

{{- define "falconer.agentLabels" -}}
{{ include "falconer.labels" .root }}
app.kubernetes.io/component: {{ .agent }}
{{- end }}

{{- define "falconer.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end }}

{{- define "falconer.spiffeId" -}}
spiffe://{{ .root.Values.trustDomain }}/ns/{{ .root.Release.Namespace }}/sa/falconer-{{ .agent }}
{{- end }}

{{/* Is an agent enabled? Call with (dict "root" $ "agent" "detect"); prints "true" or nothing. */}}
{{- define "falconer.enabled" -}}
{{- if (index .root.Values.agents .agent).enabled }}true{{ end -}}
{{- end }}

{{/* Agents that call this one (reverse of the edges), enabled ones only, as a YAML list. */}}
{{- define "falconer.callers" -}}
{{- $edges := include "falconer.edges" .root | fromYaml }}
{{- $callers := list }}
{{- range $caller := splitList " " (include "falconer.agentNames" .root) }}
{{- if and (has $.agent (index $edges $caller)) (include "falconer.enabled" (dict "root" $.root "agent" $caller)) }}
{{- $callers = append $callers $caller }}
{{- end }}
{{- end }}
{{- toYaml $callers }}
{{- end }}

{{/* Agents this one calls, enabled ones only, as a YAML list. */}}
{{- define "falconer.callees" -}}
{{- $edges := include "falconer.edges" .root | fromYaml }}
{{- $callees := list }}
{{- range $callee := index $edges .agent }}
{{- if include "falconer.enabled" (dict "root" $.root "agent" $callee) }}
{{- $callees = append $callees $callee }}
{{- end }}
{{- end }}
{{- toYaml $callees }}
{{- end }}

{{/* Does this agent talk to the Kubernetes API (and so mount a token)? */}}
{{- define "falconer.needsApi" -}}
{{- if has .agent (list "analyse" "remediate") }}true{{ end -}}
{{- end }}

{{- define "falconer.tlsSecretName" -}}
falconer-{{ .agent }}-tls
{{- end }}

{{- define "falconer.issuerRef" -}}
{{- if .Values.certManager.issuerRef.name -}}
name: {{ .Values.certManager.issuerRef.name }}
kind: {{ .Values.certManager.issuerRef.kind | default "Issuer" }}
group: {{ .Values.certManager.issuerRef.group | default "cert-manager.io" }}
{{- else -}}
name: falconer-ca
kind: Issuer
group: cert-manager.io
{{- end -}}
{{- end }}
