/** gRPC metadata naming the cluster a Proxy call is for (else the server routes by destHost). */
export const CLUSTER_METADATA_KEY = 'spokelink-cluster';
/** The dial target that means "this cluster's own kube-apiserver". */
export const KUBE_APISERVER_TARGET = 'kube-apiserver';
