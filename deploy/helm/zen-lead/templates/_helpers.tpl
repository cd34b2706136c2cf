{{/* SPDX-License-Identifier: Apache-2.0 */}}
{{/* Labels, the image and the pod security settings shared by the templates. */}}

{{- define "zen-lead.labels" -}}
app.kubernetes.io/name: zen-lead
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "zen-lead.selector" -}}
app.kubernetes.io/name: zen-lead
app.kubernetes.io/component: {{ . }}
{{- end -}}

{{- define "zen-lead.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "zen-lead.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "zen-lead.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end -}}

{{- define "zen-lead.controllerUser" -}}
system:serviceaccount:{{ .Release.Namespace }}:zen-lead-controller
{{- end -}}

{{/* Spread over nodes (preferred) and zones; args: dict "root" . "component" NAME */}}
{{- define "zen-lead.spread" -}}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "zen-lead.selector" .component | nindent 14 }}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "zen-lead.selector" .component | nindent 8 }}
{{- end -}}
