// The original design's producer, as a NestJS service would write it with ioredis: it pushes
// texts onto job_queue in every shape such a service sends, listens on job_result, and prints
// (one JSON line) each event it heard. Usage: node producer.mjs REDIS_URL QUEUE CHANNEL
import Redis from "ioredis";

const [redisUrl, queue, channel] = process.argv.slice(2);
const texts = {
  bare: "A bare JSON message from Node. It carries only its text.",
  ownId: "A message that names its own id. The worker keeps it.",
  jobId: "A message with a jobId field of its own. The event gives it back.",
  extra: "A message with a user id and a creation time. Both come back as meta.",
  plain: "The text itself, not JSON, as the design says: LPUSH job_queue with the text payload.",
};
const messages = [
  JSON.stringify({ text: texts.bare }),
  JSON.stringify({ id: "nest0002abc", text: texts.ownId }),
  JSON.stringify({ jobId: "nest-0001", text: texts.jobId }),
  JSON.stringify({ text: texts.extra, userId: 42, createdAt: "2026-11-29T10:00:00.000Z" }),
  texts.plain,
];

const listener = new Redis(redisUrl);
const producer = new Redis(redisUrl);
const events = [];
const done = new Promise((resolve) => {
  listener.on("message", (_channel, data) => {
    events.push(JSON.parse(data));
    if (events.length === messages.length) resolve();
  });
});
await listener.subscribe(channel);
for (const message of messages) await producer.lpush(queue, message);
let timer;
const timeout = new Promise((_, reject) => {
  timer = setTimeout(() => reject(new Error(`heard ${events.length} of ${messages.length} events in 30 s`)), 30_000);
});
try {
  await Promise.race([done, timeout]);
} finally {
  clearTimeout(timer);
  console.log(JSON.stringify({ texts, events }));
  listener.disconnect();
  producer.disconnect();
}
