import { runService } from '@mayfly/grpc';
import { startAttestationService } from './server.js';

runService('attestation', startAttestationService);
