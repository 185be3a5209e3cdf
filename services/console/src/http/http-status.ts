import { GrpcStatus, isMayflyError } from '@mayfly/core';

/** The HTTP status a refusal from the mesh becomes on a page (the message is shown as it came: it says what to do). */
export function httpStatusOf(error: unknown): number {
  if (!isMayflyError(error)) return 500;
  switch (error.status) {
    case GrpcStatus.INVALID_ARGUMENT:
      return 400;
    case GrpcStatus.UNAUTHENTICATED:
      return 401;
    case GrpcStatus.PERMISSION_DENIED:
      return 403;
    case GrpcStatus.NOT_FOUND:
      return 404;
    case GrpcStatus.FAILED_PRECONDITION:
    case GrpcStatus.ALREADY_EXISTS:
      return 409;
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return 429;
    case GrpcStatus.UNAVAILABLE:
    case GrpcStatus.DEADLINE_EXCEEDED:
      return 503;
    default:
      return 502;
  }
}

/** What a person reads: a refusal's own message, or a plain word for Mayfly's own faults (details go to the log). */
export function messageOf(error: unknown): string {
  if (isMayflyError(error) && error.code !== 'ERR_INTERNAL') return error.message;
  return 'Something went wrong on the console\'s side; the operators have the details in its log.';
}
