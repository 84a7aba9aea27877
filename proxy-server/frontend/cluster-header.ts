/**
 * The explicit-cluster key of the frontends: gRPC metadata on a ProxyService call, or a header
 * on an HTTP CONNECT request. With it, a dial goes to that cluster's agents and the address is
 * forwarded unchanged; without it, the address host is routed (ANP destHost). Lowercase, as
 * gRPC and Node put names on the wire.
 */
export const CLUSTER_HEADER = 'spokelink-cluster';
