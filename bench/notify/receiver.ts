import { startNotifyLab } from '../../lab/notify/server.js';

// bench/notify's webhook receiver in a process of its own (the lab's, checking every signature): the bench's
// writer of events then never waits behind the receiver's 30,000 requests on one event loop, as no state
// change waits behind a receiver in production.
//   node --import tsx bench/notify/receiver.ts <ENDPOINTS> <DELAY_MS>
// Prints `receiver ready <url of hook ep1, …>` (hooks ep1…epN answer 200 after DELAY_MS, keeping no bodies);
// on SIGTERM prints `receiver load <JSON of lab.load()>` and exits.

const endpoints = Number(process.argv[2] ?? 3);
const delayMs = Number(process.argv[3] ?? 20);

const lab = await startNotifyLab({ httpPort: 0, smtpPort: 0 });
const urls: string[] = [];
for (let i = 1; i <= endpoints; i++) {
  lab.setHook(`ep${i}`, { delayMs, dropBodies: true });
  urls.push(lab.hookUrl(`ep${i}`));
}
process.once('SIGTERM', () => {
  console.log(`receiver load ${JSON.stringify(lab.load())}`);
  void lab.close().finally(() => process.exit(0));
});
console.log(`receiver ready ${urls.join(' ')}`);
