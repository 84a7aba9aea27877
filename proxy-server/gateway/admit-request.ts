/**
 * Everything the gateway decides about a request before anything is dialled: where it goes
 * (`/clusters/<cluster>/…`), who sent it (client certificate or hub TokenReview), whether it
 * tries to impersonate, whether its identity may act on spokes, and whether the hub allows it
 * (SubjectAccessReview on `managedclusters/proxy` for that cluster, answers cached 10 s) —
 * or, for a bearer token the hub does not authenticate, that it passes straight through to
 * the spoke with no hub authorization at all. Plain requests and upgrades go through the same
 * checks.
 */
import type { IncomingMessage } from 'node:http';

import { authenticateCaller } from './authenticate-caller.ts';
import type { CallerAuthContext, GatewayAuthFailureReason } from './authenticate-caller.ts';
import { parseClusterPath } from './cluster-path.ts';
import type { AgentForwarding } from './forward-headers.ts';
import type { AccessReviewResult, HubReviewer } from './hub-reviews.ts';
import {
  PROXY_RESOURCE,
  forbiddenMessage,
  impersonationHeaders,
  isIdentityRefusal,
  proxyVerb,
  spokeIdentity,
} from './hub-identity.ts';
import type { HubUser } from './hub-identity.ts';
import { kubeStatus } from './kube-status.ts';
import type { KubeStatus } from './kube-status.ts';
import type { ReviewCache } from './review-cache.ts';

/** What {@link admitRequest} needs; shared by every request of one gateway. */
export interface AdmissionContext extends CallerAuthContext {
  readonly reviewer: HubReviewer;
  /** SubjectAccessReview answers by identity, cluster and verb. */
  readonly accessReviews: ReviewCache<AccessReviewResult>;
  readonly identityPrefix: string;
}

/** The outcome of {@link admitRequest}. */
export type Admission =
  | {
      readonly isAdmitted: true;
      readonly cluster: string;
      readonly path: string;
      /** The hub caller, or undefined for a spoke token passed through. */
      readonly user: HubUser | undefined;
      /** How the agent API is to act: as the prefixed identity, or with the caller's token. */
      readonly forwarding: AgentForwarding;
    }
  | {
      readonly isAdmitted: false;
      readonly status: KubeStatus;
      /** Set when the refusal counts as an authentication/authorization failure. */
      readonly authFailure: GatewayAuthFailureReason | undefined;
    };

function refuse(
  code: number,
  message: string,
  authFailure?: GatewayAuthFailureReason,
  details?: KubeStatus['details'],
): Admission {
  return { isAdmitted: false, status: kubeStatus(code, message, details), authFailure };
}

function reviewKey(user: HubUser, cluster: string, verb: string): string {
  return JSON.stringify([
    user.username,
    user.uid ?? '',
    user.groups,
    user.extra ?? {},
    cluster,
    verb,
  ]);
}

/** Decides about `req`. Never throws: every failure is an answer. */
export async function admitRequest(
  req: IncomingMessage,
  context: AdmissionContext,
): Promise<Admission> {
  const target = parseClusterPath(req.url);
  if (target === undefined) {
    return refuse(
      404,
      `the cluster gateway serves /clusters/<cluster>/…; ${JSON.stringify((req.url ?? '').split('?', 1)[0])} is not found`,
    );
  }
  const { cluster } = target;
  const verb = proxyVerb(req.method);
  if (verb === undefined) {
    return refuse(
      405,
      `method ${JSON.stringify(req.method ?? '')} is not supported by the cluster gateway`,
    );
  }
  const authentication = await authenticateCaller(req, context);
  if (authentication.kind === 'refused') {
    return refuse(authentication.statusCode, authentication.message, authentication.reason);
  }
  if (authentication.kind === 'spoke-token') {
    // The spoke authenticates and authorizes its own token, and decides any impersonation the
    // caller asks for against that token's identity: nothing of the hub's is involved.
    return {
      isAdmitted: true,
      cluster,
      path: target.path,
      user: undefined,
      forwarding: { kind: 'pass-through', authorization: authentication.authorization },
    };
  }
  const { user } = authentication;
  const asked = impersonationHeaders(req.headers);
  if (asked.length > 0) {
    return refuse(
      403,
      `impersonation is not supported through the cluster gateway (header ${asked[0]}): the gateway impersonates the caller itself`,
      'impersonation-refused',
    );
  }
  const identity = spokeIdentity(user, context.identityPrefix);
  if (isIdentityRefusal(identity)) return refuse(403, identity.message, 'refused-identity');
  let review: AccessReviewResult;
  try {
    review = await context.accessReviews.get(reviewKey(user, cluster, verb), () =>
      context.reviewer.reviewAccess({ user, cluster, verb }),
    );
  } catch (err) {
    return refuse(
      503,
      `cannot authorize the request: the hub API server did not answer the SubjectAccessReview (${err instanceof Error ? err.message : String(err)})`,
      'hub-unavailable',
    );
  }
  if (!review.isAllowed) {
    return refuse(403, forbiddenMessage(user.username, verb, cluster, review.reason), 'forbidden', {
      name: cluster,
      group: PROXY_RESOURCE.group,
      kind: PROXY_RESOURCE.resource,
    });
  }
  return {
    isAdmitted: true,
    cluster,
    path: target.path,
    user,
    forwarding: { kind: 'impersonate', identity },
  };
}
