import { runService } from '@mayfly/grpc';
import { startDecisionService } from './server.js';

runService('decision', startDecisionService);
