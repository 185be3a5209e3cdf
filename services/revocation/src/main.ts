import { runService } from '@mayfly/grpc';
import { startRevocationService } from './server.js';

runService('revocation', startRevocationService);
