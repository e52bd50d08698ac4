package main

import (
	"fmt"
	"strings"
)

// ResourceList builds the benchmark input: a ResourceList whose
// functionConfig is cfg and whose items are n realistic Deployments (labels,
// probes, resources, env, a config volume); the even-numbered ones carry the
// trigger annotation on their pod template.
func ResourceList(cfg []byte, trigger string, n int) []byte {
	var b strings.Builder
	b.Grow(n * 1200)
	b.WriteString("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nfunctionConfig:\n")
	for _, line := range strings.Split(strings.TrimRight(string(cfg), "\n"), "\n") {
		if strings.TrimSpace(line) == "---" {
			continue
		}
		b.WriteString("  " + line + "\n")
	}
	b.WriteString("items:\n")
	for i := 0; i < n; i++ {
		annotations := ""
		if i%2 == 0 {
			annotations = fmt.Sprintf("\n        annotations:\n          %s: \"true\"", trigger)
		}
		fmt.Fprintf(&b, deployment, i, i%50, annotations)
	}
	return []byte(b.String())
}

// deployment is one item, indented for the items list. Arguments: the
// index, the team number, the pod template's annotations block.
const deployment = `- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: app-%[1]d
    namespace: team-%[2]d
    labels:
      app.kubernetes.io/name: app-%[1]d
      app.kubernetes.io/part-of: shop # the demo shop
  spec:
    replicas: 2
    selector:
      matchLabels:
        app.kubernetes.io/name: app-%[1]d
    template:
      metadata:
        labels:
          app.kubernetes.io/name: app-%[1]d%[3]s
      spec:
        serviceAccountName: app-%[1]d
        containers:
        - name: app
          image: registry.example/shop/app:1.%[1]d
          ports:
          - containerPort: 8080
            name: http
          env:
          - name: POD_NAME
            valueFrom:
              fieldRef:
                fieldPath: metadata.name
          - name: LOG_LEVEL
            value: info
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {memory: 256Mi}
          readinessProbe:
            httpGet: {path: /ready, port: http}
          volumeMounts:
          - name: config
            mountPath: /etc/app
        volumes:
        - name: config
          configMap:
            name: app-%[1]d
`
