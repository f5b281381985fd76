// One MQTT.js client for test_mqttjs.py: connects to URL, subscribes to SUB_TOPIC,
// publishes SIZE pattern bytes to PUB_TOPIC, waits for one message on SUB_TOPIC, then
// disconnects. Each step is one JSON line on stdout; any error exits non-zero with the
// reason on stderr.
//   node peer.js URL PROTOCOL_VERSION QOS SUB_TOPIC PUB_TOPIC SIZE [CA_FILE]
// PEER_DEBUG=1 also logs every packet sent and received to stderr.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const mqtt = require('mqtt');

const [url, version, qosText, subTopic, pubTopic, sizeText, caFile] = process.argv.slice(2);
const qos = Number(qosText);
const say = (event, fields = {}) => console.log(JSON.stringify({event, ...fields}));
const fail = (why) => {
  console.error(String(why && why.stack ? why.stack : why));
  process.exit(1);
};
// A guard against a hang, not a timing check.
setTimeout(() => fail('no message within 60 s'), 60000).unref();

// The same pattern test_mqttjs.py makes: byte i is (7 i + 3) mod 256.
const payload = Buffer.alloc(Number(sizeText));
for (let i = 0; i < payload.length; i++) payload[i] = (7 * i + 3) % 256;

const options = {
  protocolVersion: Number(version),
  clientId: 'mqttjs-' + crypto.randomBytes(6).toString('hex'),
  reconnectPeriod: 0,
  connectTimeout: 20000,
};
if (caFile) {
  options.ca = fs.readFileSync(caFile);
  options.rejectUnauthorized = true;
}
const client = mqtt.connect(url, options);
let ending = false;
client.on('error', (error) => {
  // After its DISCONNECT, MQTT.js's WebSocket stream may still write (its own closing
  // frames) while the broker closes the connection, as MQTT 3.1.1 §3.14.4 says it should
  // (mosquitto does the same): that is the end, not a failure.
  if (ending && (error.code === 'EPIPE' || error.code === 'ECONNRESET')) return;
  fail(error);
});
if (process.env.PEER_DEBUG) client.on('packetreceive', (p) => console.error('received', p.cmd));
client.on('connect', (connack) => {
  say('connected', {returnCode: connack.returnCode ?? connack.reasonCode ?? 0});
  client.subscribe(subTopic, {qos}, (error, granted) => {
    if (error) return fail(error);
    say('subscribed', {granted: granted.map((g) => g.qos)});
    client.publish(pubTopic, payload, {qos}, (error) => {
      if (error) return fail(error);
      say('published');
    });
  });
});
const closed = () => {
  say('closed');
  process.exit(0);
};
const finish = () => {
  ending = true;
  client.end(false, {}, closed);
};
client.on('close', () => {
  if (ending) closed();
});
client.on('message', (topic, message, packet) => {
  say('message', {
    topic,
    qos: packet.qos,
    size: message.length,
    sha256: crypto.createHash('sha256').update(message).digest('hex'),
  });
  // MQTT.js emits the message before it acknowledges it: the DISCONNECT waits for the
  // PUBACK (QoS 1) or PUBCOMP (QoS 2), since the broker closes at the DISCONNECT.
  if (packet.qos === 0) finish();
});
client.on('packetsend', (packet) => {
  if (process.env.PEER_DEBUG) console.error('sent', packet.cmd);
  if (packet.cmd === 'puback' || packet.cmd === 'pubcomp') finish();
});
