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
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
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
{{- /* Peers through their headless Services: clients resolve every ready pod and spread calls (round robin). */}}
{{- range $service, $spec := (include "mayfly.callGraph" . | fromYaml) }}
{{- if ne $service "edge-verifier" }}
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
  value: "postgres://{{ .root.Values.database.rolePrefix }}{{ .service }}:$(MAYFLY_DB_PASSWORD)@{{ .root.Values.database.host }}:{{ .root.Values.database.port }}/{{ .root.Values.database.name }}?sslmode={{ .root.Values.database.sslmode }}"
{{- end -}}

{{/* NATS_URL for one NATS user (revocation, edge, issuance or audit), its password from the NATS Secret. */}}
{{- define "mayfly.natsEnv" -}}
- name: MAYFLY_NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .root.Values.nats.existingSecret }}
      key: {{ .user }}-password
- name: NATS_URL
  value: "nats://{{ .name }}:$(MAYFLY_NATS_PASSWORD)@{{ .root.Values.nats.host }}:{{ .root.Values.nats.port }}"
- name: MAYFLY_REVOCATION_STREAM
  value: {{ .root.Values.nats.stream | quote }}
- name: MAYFLY_REVOCATION_SUBJECT_PREFIX
  value: {{ .root.Values.nats.subjectPrefix | quote }}
- name: MAYFLY_AUDIT_HEAD_STREAM
  value: {{ .root.Values.nats.auditHeadStream | quote }}
- name: MAYFLY_AUDIT_HEAD_SUBJECT
  value: {{ .root.Values.nats.auditHeadSubject | quote }}
{{- end -}}

{{/* gRPC health probes on the plaintext health port: startup, readiness, liveness. */}}
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
  grpc: {port: {{ .healthPort }}}
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
{{- end -}}
