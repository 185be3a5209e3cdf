import { runService } from '@mayfly/grpc';
import { startAuditService } from './server.js';

runService('audit', startAuditService);
