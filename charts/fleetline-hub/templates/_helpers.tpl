{{/* Names and labels of the fleetline-hub chart. */}}

{{- define "fleetline-hub.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "fleetline-hub.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "fleetline-hub.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fleetline-hub.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "fleetline-hub.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "fleetline-hub.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: hub
app.kubernetes.io/part-of: fleetline
{{- end -}}

{{- define "fleetline-hub.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "fleetline-hub.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "fleetline-hub.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The Secret this chart creates for values given inline (repository credentials, webhook, admin token, config). */}}
{{- define "fleetline-hub.secretName" -}}
{{- printf "%s-secrets" (include "fleetline-hub.fullname" .) -}}
{{- end -}}

{{- define "fleetline-hub.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "fleetline-hub.fullname" .)) .Values.tls.existingSecret -}}
{{- end -}}

{{/* Whether the repository credentials are given (inline or as an existing Secret). */}}
{{- define "fleetline-hub.repoCredentials" -}}
{{- $c := .Values.repo.credentials -}}
{{- if or $c.existingSecret $c.token $c.username $c.password -}}true{{- end -}}
{{- end -}}
