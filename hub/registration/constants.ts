/**
 * Names shared by the hub's registration pieces and the CLI: where the hub keeps its PKI and
 * bootstrap tokens, the signer name and the labels of its CertificateSigningRequests.
 */

/** The hub's own namespace (OCM's name): PKI Secrets, the hub process's ServiceAccount. */
export const HUB_NAMESPACE = 'open-cluster-management-hub';
/** Secret (kubernetes.io/tls) holding the hub CA: it signs agents, the proxy-server, the gateway. */
export const HUB_CA_SECRET = 'spokelink-hub-ca';
/** Secret (kubernetes.io/tls + ca.crt) with the proxy-server's serving certificate. */
export const PROXY_SERVER_SECRET = 'spokelink-proxy-server';
/** Secret (kubernetes.io/tls) with the cluster gateway's client certificate for agent APIs. */
export const GATEWAY_SECRET = 'spokelink-gateway';
/** ConfigMap recording the addresses `init` advertised (for `spokelink token` to print). */
export const HUB_INFO_CONFIGMAP = 'spokelink-hub-info';

/** Namespace of bootstrap token Secrets (as kubeadm's). */
export const TOKEN_NAMESPACE = 'kube-system';
/** Bootstrap token Secrets are named `bootstrap-token-<id>` and have this type. */
export const TOKEN_SECRET_TYPE = 'bootstrap.kubernetes.io/token';
export const TOKEN_SECRET_PREFIX = 'bootstrap-token-';
/** Label on the token Secrets Spokelink made and reads (others' bootstrap tokens are ignored). */
export const TOKEN_LABEL = 'spokelink.io/registration-token';
/** Annotation: the `<cluster>/<agent>/<public key hash>` a token was first used for. */
export const TOKEN_BOUND_ANNOTATION = 'spokelink.io/bound-to';
/** Annotation: when the certificate registered with a token was handed out (token spent). */
export const TOKEN_CONSUMED_ANNOTATION = 'spokelink.io/consumed-at';

/** signerName of agent CertificateSigningRequests; only the hub's signer signs them. */
export const AGENT_SIGNER_NAME = 'spokelink.io/agent';
/** OCM's label naming the cluster a CSR (or other object) belongs to. */
export const CLUSTER_NAME_LABEL = 'open-cluster-management.io/cluster-name';
/** Label with the agent's name on its CSRs. */
export const AGENT_NAME_LABEL = 'spokelink.io/agent-name';
/** Label: `registration` (first certificate, bootstrap token) or `renewal` (mTLS). */
export const REQUEST_KIND_LABEL = 'spokelink.io/request-kind';
/** Annotation on a registration CSR: the id of the bootstrap token it was made with. */
export const TOKEN_ID_ANNOTATION = 'spokelink.io/bootstrap-token-id';
/** The reason of approvals by the hub (OCM's). */
export const APPROVED_REASON = 'AutoApprovedByHubCSRApprovingController';

/** Default lifetime of agent certificates: 30 days (rotated at 80 %, so every 24 days). */
export const DEFAULT_AGENT_CERT_SECONDS = 30 * 24 * 3600;
/** Shortest agent certificate lifetime the signer issues, in seconds. */
export const MIN_AGENT_CERT_SECONDS = 30;
