{{/* The release's name prefix: <release>-mayfly (or the release name if it already says mayfly). */}}
{{- define "mayfly.fullname" -}}
{{- if contains "mayfly" .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-mayfly" .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels every object carries. Call with (dict "root" $ "component" "issuance"). */}}
{{- define "mayfly.labels" -}}
app.kubernetes.io/name: mayfly
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/component: {{ .component }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{/* Labels that select one component's pods. */}}
{{- define "mayfly.selectorLabels" -}}
app.kubernetes.io/name: mayfly
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "mayfly.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{/* A pod template's metadata: selector labels, podLabels, podAnnotations. Call with (dict "root" $ "component" "issuance"). */}}
{{- define "mayfly.podMetadata" -}}
labels:
  {{- include "mayfly.selectorLabels" . | nindent 2 }}
  {{- with .root.Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- with .root.Values.podAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Pod-level escape hatches: priorityClassName and topologySpreadConstraints (selector defaults to the component). */}}
{{- define "mayfly.podScheduling" -}}
{{- with .root.Values.priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- if .root.Values.topologySpreadConstraints }}
topologySpreadConstraints:
{{- range .root.Values.topologySpreadConstraints }}
  - {{- toYaml (merge (dict) . (dict "labelSelector" (dict "matchLabels" (include "mayfly.selectorLabels" $ | fromYaml)))) | nindent 4 }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Extra environment every Mayfly container gets (last, so it can refer to the chart's own). */}}
{{- define "mayfly.extraEnv" -}}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Volumes for the PostgreSQL and NATS CAs, when configured. */}}
{{- define "mayfly.caVolumes" -}}
{{- if and .database .root.Values.database.caSecret }}
- name: database-ca
  secret: {secretName: {{ .root.Values.database.caSecret }}, defaultMode: 0444, items: [{key: {{ .root.Values.database.caKey }}, path: ca.crt}]}
{{- end }}
{{- if and .nats .root.Values.nats.tls.enabled .root.Values.nats.tls.caSecret }}
- name: nats-ca
  secret: {secretName: {{ .root.Values.nats.tls.caSecret }}, defaultMode: 0444, items: [{key: {{ .root.Values.nats.tls.caKey }}, path: ca.crt}]}
{{- end }}
{{- end -}}

{{- define "mayfly.caMounts" -}}
{{- if and .database .root.Values.database.caSecret }}
- {name: database-ca, mountPath: /var/run/mayfly/database-ca, readOnly: true}
{{- end }}
{{- if and .nats .root.Values.nats.tls.enabled .root.Values.nats.tls.caSecret }}
- {name: nats-ca, mountPath: /var/run/mayfly/nats-ca, readOnly: true}
{{- end }}
{{- end -}}

{{- define "mayfly.tokenIssuer" -}}
{{- .Values.tokenIssuer | default (printf "https://%s-issuance.%s.svc:8080" (include "mayfly.fullname" .) .Release.Namespace) -}}
{{- end -}}

{{/*
The call graph, the one place that says who talks to whom (test/deploy/helm-chart.test.ts checks
it against the services' caller table, libs/grpc/src/authorization.ts). Per service: its gRPC,
health and metrics ports, which services it calls, whether it needs PostgreSQL or NATS, and
whether workloads or operators call it.
*/}}
{{- define "mayfly.callGraph" -}}
attestation: {port: 7051, healthPort: 7061, metricsPort: 9461, calls: [audit], database: true, nats: false, workloads: false, operators: true}
decision: {port: 7052, healthPort: 7062, metricsPort: 9462, calls: [audit], database: true, nats: false, workloads: false, operators: true}
issuance: {port: 7053, healthPort: 7063, metricsPort: 9463, calls: [attestation, decision, revocation, audit], database: true, nats: true, workloads: true, operators: false}
revocation: {port: 7054, healthPort: 7064, metricsPort: 9464, calls: [audit], database: true, nats: true, workloads: false, operators: true}
audit: {port: 7055, healthPort: 7065, metricsPort: 9465, calls: [], database: true, nats: true, workloads: false, operators: true}
edge-verifier: {port: 7056, healthPort: 7066, metricsPort: 9466, calls: [audit, revocation], database: false, nats: true, workloads: true, operators: false}
console: {port: 7057, healthPort: 7067, metricsPort: 9467, calls: [issuance, audit], database: false, nats: false, workloads: false, operators: false}
{{- end -}}

{{/* The components this release runs, sorted services first, then edge-verifier and console when on: (include "mayfly.deployedComponents" . | fromYaml).components. */}}
{{- define "mayfly.deployedComponents" -}}
{{- $components := keys .Values.services | sortAlpha }}
{{- if ne .Values.edgeVerifier.mode "none" }}{{ $components = append $components "edge-verifier" }}{{ end }}
{{- if .Values.console.enabled }}{{ $components = append $components "console" }}{{ end }}
components: {{ toJson $components }}
{{- end -}}

{{/* Whether a call-graph component runs in this release (the console and the edge verifiers are optional). */}}
{{- define "mayfly.deployed" -}}
{{- if eq .component "console" -}}{{ .root.Values.console.enabled }}
{{- else if eq .component "edge-verifier" -}}{{ ne .root.Values.edgeVerifier.mode "none" }}
{{- else -}}{{ hasKey .root.Values.services .component }}
{{- end -}}
{{- end -}}

{{/* Environment every Mayfly container shares: mesh TLS, where the others are, tracing. */}}
{{- define "mayfly.commonEnv" -}}
{{- $fullname := include "mayfly.fullname" . -}}
- name: MAYFLY_HOST
  value: "0.0.0.0"
- name: MAYFLY_TRUST_DOMAIN
  value: {{ .Values.trustDomain | quote }}
- name: MAYFLY_TLS_CA_FILE
  value: /var/run/mayfly/tls/ca.crt
- name: MAYFLY_TLS_CERT_FILE
  value: /var/run/mayfly/tls/tls.crt
- name: MAYFLY_TLS_KEY_FILE
  value: /var/run/mayfly/tls/tls.key
- name: MAYFLY_TLS_RELOAD_MS
  value: {{ .Values.tls.reloadMs | quote }}
- name: MAYFLY_TOKEN_ISSUER
  value: {{ include "mayfly.tokenIssuer" . | quote }}
- name: MAYFLY_MAX_TTL_SECONDS
  value: {{ .Values.tokens.maxTtlSeconds | quote }}
{{- /* Peers through their headless Services: clients resolve every ready pod and spread calls (round robin). Nobody calls edges or the console. */}}
{{- range $service, $spec := (include "mayfly.callGraph" . | fromYaml) }}
{{- if and (ne $service "edge-verifier") (ne $service "console") }}
- name: MAYFLY_{{ $service | upper | replace "-" "_" }}_ADDR
  value: "dns:///{{ $fullname }}-{{ $service }}-pods.{{ $.Release.Namespace }}.svc:{{ $spec.port }}"
{{- end }}
{{- end }}
{{- if .Values.telemetry.otlpEndpoint }}
- name: OTEL_TRACES_EXPORTER
  value: otlp
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: http/protobuf
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .Values.telemetry.otlpEndpoint | quote }}
{{- end }}
{{- end -}}

{{/* DATABASE_URL for a service's own role, its password from the database Secret. */}}
{{- define "mayfly.databaseEnv" -}}
- name: MAYFLY_DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .root.Values.database.existingSecret }}
      key: {{ .service }}-password
- name: DATABASE_URL
  value: "postgres://{{ .root.Values.database.rolePrefix }}{{ .service }}:$(MAYFLY_DB_PASSWORD)@{{ .root.Values.database.host }}:{{ .root.Values.database.port }}/{{ .root.Values.database.name }}?{{ include "mayfly.databaseParameters" .root }}"
{{- end -}}

{{/* The connection's TLS parameters: sslmode, and the mounted CA for verify-ca / verify-full. */}}
{{- define "mayfly.databaseParameters" -}}
sslmode={{ .Values.database.sslmode }}{{ if .Values.database.caSecret }}&sslrootcert=/var/run/mayfly/database-ca/ca.crt{{ end }}
{{- end -}}

{{/* NATS_URL for one NATS user (revocation, edge, issuance or audit), its password from the NATS Secret. */}}
{{- define "mayfly.natsEnv" -}}
- name: MAYFLY_NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .root.Values.nats.existingSecret }}
      key: {{ .user }}-password
- name: NATS_URL
  value: "{{ if .root.Values.nats.tls.enabled }}tls{{ else }}nats{{ end }}://{{ .name }}:$(MAYFLY_NATS_PASSWORD)@{{ .root.Values.nats.host }}:{{ .root.Values.nats.port }}"
{{- if and .root.Values.nats.tls.enabled .root.Values.nats.tls.caSecret }}
- name: MAYFLY_NATS_CA_FILE
  value: /var/run/mayfly/nats-ca/ca.crt
{{- end }}
- name: MAYFLY_REVOCATION_STREAM
  value: {{ .root.Values.nats.stream | quote }}
- name: MAYFLY_REVOCATION_SUBJECT_PREFIX
  value: {{ .root.Values.nats.subjectPrefix | quote }}
- name: MAYFLY_AUDIT_HEAD_STREAM
  value: {{ .root.Values.nats.auditHeadStream | quote }}
- name: MAYFLY_AUDIT_HEAD_SUBJECT
  value: {{ .root.Values.nats.auditHeadSubject | quote }}
{{- end -}}

{{/*
gRPC health probes on the plaintext health port: startup, readiness, liveness. Readiness asks the
server as a whole (a stale edge verifier says NOT_SERVING and leaves its Service); liveness asks
mayfly.liveness, which only says the process answers — a NATS outage must not restart every edge.
*/}}
{{- define "mayfly.probes" -}}
startupProbe:
  grpc: {port: {{ .healthPort }}}
  periodSeconds: 2
  failureThreshold: 30
readinessProbe:
  grpc: {port: {{ .healthPort }}}
  periodSeconds: 5
  failureThreshold: 2
livenessProbe:
  grpc: {port: {{ .healthPort }}, service: mayfly.liveness}
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
{{- end -}}
