import { startOAuthPeer } from './oauth-peer.js';

/**
 * The OAuth peer in a process of its own (issue 24, point 2), as Mayfly's services run: the bench
 * drives it from its own process with the same load generator, so neither shares an event loop
 * with the load. Prints {tokenUrl, authorization} as one JSON line, then serves until stdin ends.
 */
const peer = await startOAuthPeer();
process.stdout.write(`${JSON.stringify({ tokenUrl: peer.tokenUrl, authorization: peer.authorization })}\n`);
process.stdin.resume();
process.stdin.on('end', () => void peer.close().then(() => process.exit(0)));
