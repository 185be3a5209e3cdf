export { Agent, type AgentEnd } from './agent.js';
export { AgentConfigError, parseAgentConfig, type AgentConfig, type GrantConfig } from './agent-config.js';
export { CREDENTIAL_FILE_MODE, writeFileAtomic } from './atomic-file.js';
