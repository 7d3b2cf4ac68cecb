{{/* The chart name (label app.kubernetes.io/name). */}}
{{- define "jobscrape.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The name namespaced objects are named after: `<release>-jobscrape`, or the release name
when it already contains the chart name. */}}
{{- define "jobscrape.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The prefix of cluster-scoped names (ClusterRoles, their bindings, the admission policy
and its binding) and of the Roles in watched namespaces: `<release namespace>-<fullname>`.
Release names are unique per namespace only, and the kustomize install uses plain
`jobscrape-operator*`: with the namespace in front no two installs share a name. */}}
{{- define "jobscrape.clusterName" -}}
{{- printf "%s-%s" .Release.Namespace (include "jobscrape.fullname" .) }}
{{- end }}

{{- define "jobscrape.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "jobscrape.selectorLabels" -}}
app.kubernetes.io/name: {{ include "jobscrape.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "jobscrape.labels" -}}
helm.sh/chart: {{ include "jobscrape.chart" . }}
{{ include "jobscrape.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: jobscrape
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The operator's selector: its pod, its Service and ServiceMonitor. */}}
{{- define "jobscrape.operatorSelectorLabels" -}}
{{ include "jobscrape.selectorLabels" . }}
app.kubernetes.io/component: operator
{{- end }}

{{/* metadata.annotations of every object (commonAnnotations plus the given dict). */}}
{{- define "jobscrape.annotations" -}}
{{- $all := merge (dict) (.extra | default dict) (.root.Values.commonAnnotations | default dict) -}}
{{- with $all -}}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end -}}
{{- end }}

{{- define "jobscrape.serviceAccountName" -}}
{{- default (printf "%s-operator" (include "jobscrape.fullname" .)) .Values.serviceAccount.name }}
{{- end }}

{{- define "jobscrape.runnerPolicyName" -}}
{{- printf "%s-runner-policy" (include "jobscrape.fullname" .) }}
{{- end }}

{{/* The operator's image reference. */}}
{{- define "jobscrape.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{- define "jobscrape.runnerImage" -}}
{{- .Values.runner.image | default (include "jobscrape.image" .) }}
{{- end }}

{{/* The port of a HOST:PORT bind address. */}}
{{- define "jobscrape.port" -}}
{{- regexReplaceAll "^.*:" . "" | int }}
{{- end }}

{{/* Exactly what the operator uses (manifests/base/rbac.yaml): no Secrets, no Pods, no
wildcards. The same rules go into the ClusterRole or into a Role per watched namespace. */}}
{{- define "jobscrape.operatorRules" -}}
# the JobSources it reconciles, and their status
- apiGroups: ["jobscrape.io"]
  resources: ["jobsources"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["jobscrape.io"]
  resources: ["jobsources/status"]
  verbs: ["get", "patch"]
# what it keeps per JobSource (server-side apply = patch; create for new objects)
- apiGroups: ["batch"]
  resources: ["cronjobs"]
  verbs: ["get", "list", "watch", "create", "patch"]
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["create", "list", "watch"]  # run-now; finishing sharded runs
- apiGroups: [""]
  resources: ["serviceaccounts"]
  verbs: ["get", "list", "watch", "create", "patch"]
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["roles", "rolebindings"]
  verbs: ["get", "list", "watch", "create", "patch"]
- apiGroups: [""]
  resources: ["persistentvolumeclaims"]
  verbs: ["get", "create", "patch"]  # patch: owner reference follows whenDeleted; resize
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
{{- end }}

{{/* The data of the runner-policy ConfigMap (also hashed into the pod's annotations, so a
change of images restarts the operator, which reads them into its environment at start). */}}
{{- define "jobscrape.runnerPolicyData" -}}
runnerImage: {{ include "jobscrape.runnerImage" . | quote }}
allowedImages: {{ join "," .Values.runner.allowedImages | quote }}
{{- end }}
