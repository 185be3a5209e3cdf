import { connectorFor } from '@mayfly/connectors';
import type { ResourceCheck } from '../domain/ports.js';

/** Checks a resource by connecting to it as its admin would, then lets the connection go. */
export const checkResourceByConnecting: ResourceCheck = async (resource) => {
  const logins = connectorFor(resource);
  try {
    await logins.check();
  } finally {
    await logins.close();
  }
};
