import { runService } from '@mayfly/grpc';
import { startIssuanceService } from './server.js';

runService('issuance', startIssuanceService);
