{{/*
The contract of docs/agents.md, in one place: agents, ports and A2A edges.
Names are fixed (`falconer-<agent>`): the ServiceAccount name is part of each
agent's SPIFFE identity, which peers authorize.
*/}}

{{- define "falconer.agentNames" -}}
detect coordinator analyse remediate notify
{{- end }}

{{/*
Every workload with a SPIFFE identity: the agents plus the MCP tool server
(`falconer mcp`, docs/mcp.md), which calls detect and the coordinator over A2A
and serves MCP (Streamable HTTP, bearer token) instead of A2A.
*/}}
{{- define "falconer.workloadNames" -}}
detect coordinator analyse remediate notify mcp
{{- end }}

{{/* Ports per agent (docs/agents.md "Processes and ports"). */}}
{{- define "falconer.ports" -}}
detect: {a2a: 7401, ops: 7501}
coordinator: {a2a: 7402, ops: 7502}
analyse: {a2a: 7403, ops: 7503}
remediate: {a2a: 7404, ops: 7504}
notify: {a2a: 7405, ops: 7505}
mcp: {http: 7700, ops: 7701}
{{- end }}

{{/* Who calls whom over A2A (docs/agents.md "Edges"): caller -> callees. */}}
{{- define "falconer.edges" -}}
detect: [coordinator]
coordinator: [analyse, remediate, notify, detect]
analyse: [coordinator, detect]
remediate: []
notify: []
mcp: [detect, coordinator]
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

{{/* Is an agent (or mcp) enabled? Call with (dict "root" $ "agent" "detect"); prints "true" or nothing. */}}
{{- define "falconer.enabled" -}}
{{- if eq .agent "mcp" }}
{{- if .root.Values.mcp.enabled }}true{{ end -}}
{{- else if (index .root.Values.agents .agent).enabled }}true{{ end -}}
{{- end }}

{{/* Agents that call this one (reverse of the edges), enabled ones only, as a YAML list. */}}
{{- define "falconer.callers" -}}
{{- $edges := include "falconer.edges" .root | fromYaml }}
{{- $callers := list }}
{{- range $caller := splitList " " (include "falconer.workloadNames" .root) }}
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
{{- if has .agent (list "analyse" "remediate" "mcp") }}true{{ end -}}
{{- end }}

{{/* The MCP bearer token Secret: an existing one (mcp.tokenSecret) or the chart's generated one. */}}
{{- define "falconer.mcpTokenSecretName" -}}
{{- .Values.mcp.tokenSecret | default "falconer-mcp-token" -}}
{{- end }}

{{- define "falconer.mcpTokenKey" -}}
{{- if .Values.mcp.tokenSecret }}{{ .Values.mcp.tokenSecretKey }}{{ else }}token{{ end -}}
{{- end }}

{{/* Where mcp and analyse find the token file. */}}
{{- define "falconer.mcpTokenFile" -}}
/var/run/falconer/mcp-token/token
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

{{/* The token volume of mcp and analyse (body of a `volumes` entry): only the token key, read-only to the pod's group. */}}
{{- define "falconer.mcpTokenVolume" -}}
secret:
  secretName: {{ include "falconer.mcpTokenSecretName" . }}
  # 0440 (owner and fsGroup read), in decimal: YAML 1.1 and 1.2 parsers read a leading 0 differently.
  defaultMode: 288
  items:
    - key: {{ include "falconer.mcpTokenKey" . }}
      path: token
{{- end }}
