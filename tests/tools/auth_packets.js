#!/usr/bin/env node
// Golden-byte helper for tests/tools/capture_golden.py (run by it; not a test).
//
// Mode "generate" (default): encode a fixed list of MQTT 5 packets with
// mqtt-packet (the codec of MQTT.js) and print one JSON object per line:
//   {"dir": "c2s"|"s2c", "type": "AUTH", "hex": "...", "label": "..."}
// AUTH is the main reason this exists: neither paho-mqtt 1.6.1 nor
// mosquitto 2.0.11 emit AUTH packets without an auth plugin. The other packets
// are a third, independent encoder for packets that are hard to get from a
// real broker (CONNACK with many properties, SUBACK/UNSUBACK with many reason
// codes, DISCONNECT with Server Reference, ...).
//
// Mode "parse": read lines "<version> <hex>" from stdin (version 3, 4 or 5 =
// MQTT 3.1, 3.1.1, 5) and parse each hex string with mqtt-packet's parser as an
// independent cross-check of the captured packets. Prints one JSON object per
// input line: {"ok": true, "cmd": "..."} or {"ok": false, "error": "..."}.
//
// Property order note: mqtt-packet writes properties in the insertion order
// of the JavaScript `properties` object (for..in), not sorted by identifier.
// The objects below deliberately list properties in the order given in the
// mqtt-packet README, so the goldens show that behaviour.

'use strict'

const mqtt = require('mqtt-packet')

const V5 = { protocolVersion: 5 }

function gen (packet) {
  return mqtt.generate(packet, V5)
}

const packets = [
  // ---- AUTH (MQTT 5 only) ----
  {
    dir: 's2c',
    label: 'AUTH 0x18 continue authentication, server challenge (method + data)',
    packet: {
      cmd: 'auth',
      reasonCode: 0x18,
      properties: {
        authenticationMethod: 'SCRAM-SHA-1',
        authenticationData: Buffer.from('r=c1n0nce,s=c2FsdA==,i=4096')
      }
    }
  },
  {
    dir: 'c2s',
    label: 'AUTH 0x18 continue authentication, client response (method + data)',
    packet: {
      cmd: 'auth',
      reasonCode: 0x18,
      properties: {
        authenticationMethod: 'SCRAM-SHA-1',
        authenticationData: Buffer.from([0x00, 0x01, 0x02, 0xfe, 0xff])
      }
    }
  },
  {
    dir: 'c2s',
    label: 'AUTH 0x19 re-authenticate (method + data)',
    packet: {
      cmd: 'auth',
      reasonCode: 0x19,
      properties: {
        authenticationMethod: 'SCRAM-SHA-1',
        authenticationData: Buffer.from('n,,n=user,r=c1n0nce')
      }
    }
  },
  {
    dir: 's2c',
    label: 'AUTH 0x00 success with method, reason string and user properties (repeated key)',
    packet: {
      cmd: 'auth',
      reasonCode: 0x00,
      properties: {
        authenticationMethod: 'SCRAM-SHA-1',
        authenticationData: Buffer.from('v=c2lnbmF0dXJl'),
        reasonString: 'auth ok',
        userProperties: { a: '1', b: ['2', '3'] }
      }
    }
  },
  {
    dir: 's2c',
    label: 'AUTH 0x00 success, reason string + user property only',
    packet: {
      cmd: 'auth',
      reasonCode: 0x00,
      properties: {
        reasonString: 'done',
        userProperties: { k: 'v' }
      }
    }
  },
  {
    dir: 's2c',
    label: 'AUTH 0x00 with no properties: mqtt-packet still writes reason code + property length 0',
    packet: { cmd: 'auth', reasonCode: 0x00 }
  },
  {
    dir: 'c2s',
    label: 'AUTH 0x18, method only',
    packet: {
      cmd: 'auth',
      reasonCode: 0x18,
      properties: { authenticationMethod: 'PLAIN' }
    }
  },

  // ---- CONNECT / CONNACK around enhanced authentication ----
  {
    dir: 'c2s',
    label: 'CONNECT starting enhanced auth (method + data), will with properties, README property order',
    packet: {
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 5,
      clean: true,
      clientId: 'mp-auth',
      keepalive: 30,
      username: 'user',
      password: Buffer.from('pw'),
      will: {
        topic: 'mp/will',
        payload: Buffer.from('dead'),
        qos: 1,
        retain: true,
        properties: {
          willDelayInterval: 5,
          payloadFormatIndicator: true,
          messageExpiryInterval: 60,
          contentType: 'text/plain',
          responseTopic: 'mp/resp',
          correlationData: Buffer.from([1, 2, 3, 4]),
          userProperties: { w: 'x' }
        }
      },
      properties: {
        sessionExpiryInterval: 120,
        receiveMaximum: 32,
        maximumPacketSize: 65536,
        topicAliasMaximum: 8,
        requestResponseInformation: true,
        requestProblemInformation: false,
        userProperties: { c: 'd' },
        authenticationMethod: 'SCRAM-SHA-1',
        authenticationData: Buffer.from('n,,n=user,r=c1n0nce')
      }
    }
  },
  {
    dir: 's2c',
    label: 'CONNACK 0x00 with (almost) every CONNACK property, README order',
    packet: {
      cmd: 'connack',
      sessionPresent: false,
      reasonCode: 0,
      properties: {
        sessionExpiryInterval: 120,
        receiveMaximum: 100,
        maximumQoS: 1,
        retainAvailable: true,
        maximumPacketSize: 1048576,
        assignedClientIdentifier: 'auto-1',
        topicAliasMaximum: 16,
        reasonString: 'welcome',
        userProperties: { s: 't', u: ['v', 'w'] },
        wildcardSubscriptionAvailable: true,
        subscriptionIdentifiersAvailable: true,
        sharedSubscriptionAvailable: false,
        serverKeepAlive: 45,
        responseInformation: 'resp/',
        serverReference: 'other:1883',
        authenticationMethod: 'SCRAM-SHA-1',
        authenticationData: Buffer.from('v=c2ln')
      }
    }
  },
  {
    dir: 's2c',
    label: 'CONNACK 0x00 session present, no properties (property length 0)',
    packet: { cmd: 'connack', sessionPresent: true, reasonCode: 0 }
  },
  {
    dir: 's2c',
    label: 'CONNACK 0x8C bad authentication method with reason string',
    packet: {
      cmd: 'connack',
      sessionPresent: false,
      reasonCode: 0x8c,
      properties: { reasonString: 'unsupported method' }
    }
  },

  // ---- SUBSCRIBE / SUBACK / UNSUBSCRIBE / UNSUBACK ----
  {
    dir: 'c2s',
    label: 'SUBSCRIBE 3 filters with nl/rap/rh options, subscription identifier 268435455 (4-byte VBI)',
    packet: {
      cmd: 'subscribe',
      messageId: 42,
      properties: { subscriptionIdentifier: 268435455, userProperties: { p: 'q' } },
      subscriptions: [
        { topic: 'mp/a', qos: 0, nl: false, rap: false, rh: 0 },
        { topic: 'mp/b/+', qos: 1, nl: true, rap: false, rh: 1 },
        { topic: 'mp/#', qos: 2, nl: false, rap: true, rh: 2 }
      ]
    }
  },
  {
    dir: 's2c',
    label: 'SUBACK with many reason codes and properties',
    packet: {
      cmd: 'suback',
      messageId: 42,
      properties: { reasonString: 'partial', userProperties: { r: 's' } },
      granted: [0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2]
    }
  },
  {
    dir: 's2c',
    label: 'SUBACK without properties',
    packet: { cmd: 'suback', messageId: 7, granted: [0x01, 0x87] }
  },
  {
    dir: 'c2s',
    label: 'UNSUBSCRIBE 2 filters with user property',
    packet: {
      cmd: 'unsubscribe',
      messageId: 43,
      properties: { userProperties: { x: 'y' } },
      unsubscriptions: ['mp/a', 'mp/b/+']
    }
  },
  {
    dir: 's2c',
    label: 'UNSUBACK with several reason codes and properties',
    packet: {
      cmd: 'unsuback',
      messageId: 43,
      properties: { reasonString: 'mixed', userProperties: { u: 'v' } },
      granted: [0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91]
    }
  },
  {
    dir: 's2c',
    label: 'UNSUBACK without properties',
    packet: { cmd: 'unsuback', messageId: 8, granted: [0x00, 0x11] }
  },

  // ---- PUBLISH and acknowledgements ----
  {
    dir: 's2c',
    label: 'PUBLISH QoS 2 with three subscription identifiers (1, 200, 268435455) and README property order',
    packet: {
      cmd: 'publish',
      messageId: 9,
      qos: 2,
      dup: true,
      retain: false,
      topic: 'mp/t',
      payload: Buffer.from('hi'),
      properties: {
        payloadFormatIndicator: true,
        messageExpiryInterval: 4321,
        topicAlias: 3,
        responseTopic: 'mp/r',
        correlationData: Buffer.from([0xde, 0xad]),
        userProperties: { test: 'test' },
        subscriptionIdentifier: [1, 200, 268435455],
        contentType: 'text/plain'
      }
    }
  },
  {
    dir: 'c2s',
    label: 'PUBLISH QoS 0 with topic alias and empty topic name',
    packet: { cmd: 'publish', qos: 0, topic: '', payload: Buffer.from('x'), properties: { topicAlias: 3 } }
  },
  {
    dir: 's2c',
    label: 'PUBACK 0x00 without properties',
    packet: { cmd: 'puback', messageId: 9, reasonCode: 0 }
  },
  {
    dir: 's2c',
    label: 'PUBACK 0x10 no matching subscribers with reason string + user property',
    packet: { cmd: 'puback', messageId: 10, reasonCode: 0x10, properties: { reasonString: 'nobody', userProperties: { a: 'b' } } }
  },
  {
    dir: 's2c',
    label: 'PUBREC 0x80 unspecified error with reason string',
    packet: { cmd: 'pubrec', messageId: 11, reasonCode: 0x80, properties: { reasonString: 'no' } }
  },
  {
    dir: 'c2s',
    label: 'PUBREL 0x92 packet identifier not found',
    packet: { cmd: 'pubrel', messageId: 11, reasonCode: 0x92 }
  },
  {
    dir: 's2c',
    label: 'PUBCOMP 0x92 packet identifier not found with user property',
    packet: { cmd: 'pubcomp', messageId: 11, reasonCode: 0x92, properties: { userProperties: { k: 'v' } } }
  },

  // ---- PING / DISCONNECT ----
  { dir: 'c2s', label: 'PINGREQ', packet: { cmd: 'pingreq' } },
  { dir: 's2c', label: 'PINGRESP', packet: { cmd: 'pingresp' } },
  {
    dir: 's2c',
    label: 'DISCONNECT 0x9C use another server with server reference and reason string',
    packet: {
      cmd: 'disconnect',
      reasonCode: 0x9c,
      properties: { reasonString: 'moved', serverReference: 'other:1883' }
    }
  },
  {
    dir: 'c2s',
    label: 'DISCONNECT 0x04 disconnect with will, session expiry + user property',
    packet: {
      cmd: 'disconnect',
      reasonCode: 0x04,
      properties: { sessionExpiryInterval: 0, userProperties: { bye: 'now' } }
    }
  },
  {
    dir: 'c2s',
    label: 'DISCONNECT 0x00 without properties',
    packet: { cmd: 'disconnect', reasonCode: 0 }
  }
]

function generateMode () {
  for (const p of packets) {
    const buf = gen(p.packet)
    process.stdout.write(JSON.stringify({
      dir: p.dir,
      type: p.packet.cmd.toUpperCase(),
      hex: buf.toString('hex'),
      label: p.label
    }) + '\n')
  }
}

function parseMode () {
  const input = require('fs').readFileSync(0, 'utf8')
  for (const line of input.split('\n')) {
    if (!line.trim()) continue
    const [ver, hex] = line.trim().split(/\s+/)
    const parser = mqtt.parser({ protocolVersion: Number(ver) })
    const got = []
    let err = null
    parser.on('packet', (pk) => got.push(pk))
    parser.on('error', (e) => { err = e })
    try {
      parser.parse(Buffer.from(hex, 'hex'))
    } catch (e) {
      err = e
    }
    if (err) {
      process.stdout.write(JSON.stringify({ ok: false, error: String(err && err.message) }) + '\n')
    } else if (got.length !== 1) {
      process.stdout.write(JSON.stringify({ ok: false, error: 'parsed ' + got.length + ' packets' }) + '\n')
    } else {
      process.stdout.write(JSON.stringify({ ok: true, cmd: got[0].cmd }) + '\n')
    }
  }
}

if (process.argv[2] === 'parse') {
  parseMode()
} else {
  generateMode()
}
