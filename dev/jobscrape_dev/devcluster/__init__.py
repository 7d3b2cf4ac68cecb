"""A local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager) and a pod
executor standing in for a kubelet, for tests and the demo. Not used in production."""
