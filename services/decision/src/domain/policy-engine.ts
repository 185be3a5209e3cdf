import type { AttestedEvidence, Delegation, Task, Workload } from '@mayfly/proto';
import type { ApprovalRule } from './approval-rules.js';

/** One question to the policy engine: may this workload do this action on this resource now? */
export interface PolicyQuery {
  readonly workload: Workload;
  readonly task: Task;
  readonly resource: string;
  readonly action: string;
  readonly requestedTtlSeconds: number;
  readonly justification: string;
  /** For a delegated grant: who passed it on (the principal first) and from which grants. */
  readonly delegation: Delegation | undefined;
  /** The workload asks for break-glass access (context.breakGlass). */
  readonly breakGlass: boolean;
  /** What the workload's evidence proved (context.evidence); undefined for a delegated grant. */
  readonly evidence?: AttestedEvidence | undefined;
  readonly now: Date;
}

export interface PolicyAnswer {
  readonly allowed: boolean;
  /**
   * Policies that determined the answer: the permits that allowed, the forbids that denied, or
   * — when evaluation failed — the policies that errored.
   */
  readonly policyIds: readonly string[];
  /** The strictest max_ttl_seconds among the determining permit policies, if any set one. */
  readonly maxTtlSeconds: number | undefined;
  /** The strictest max_grant_seconds (renewal ceiling) among them, if any set one. */
  readonly maxGrantSeconds: number | undefined;
  /** The strictest heartbeat_seconds (liveness obligation) among them, if any set one. */
  readonly heartbeatSeconds: number | undefined;
  /** The approval rules the allowing permits name (@approval); empty when none needs approval. */
  readonly approvalRules: readonly ApprovalRule[];
  /** An allowing permit is a break-glass policy (@break_glass). */
  readonly breakGlass: boolean;
  /** Who reviews what a break-glass permit allowed: the approver groups of its @break_glass("rule"). */
  readonly breakGlassReviewerGroups: readonly string[];
  /** Policy evaluation errors, "<policy id>: <message>". Any error makes the answer deny. */
  readonly errors: readonly string[];
}

/** Policy-as-code, evaluated at request time. Implementations load and parse policies once. */
export interface PolicyEngine {
  /** Digest of the loaded policy set, recorded with every decision. */
  readonly version: string;
  evaluate(query: PolicyQuery): PolicyAnswer;
}
