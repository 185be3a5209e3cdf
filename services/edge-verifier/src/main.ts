import { runService } from '@mayfly/grpc';
import { startEdgeVerifierService } from './server.js';

runService('edge-verifier', startEdgeVerifierService);
