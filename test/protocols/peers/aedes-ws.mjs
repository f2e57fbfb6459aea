// An aedes MQTT broker over WebSocket on 127.0.0.1, port 0 (aedes' README way: a ws
// server whose connections become streams with ws.createWebSocketStream). aedes 1.x is
// an ES module, so the tests run it as its own process. Prints the port as one line
// `PORT n`; stops when its standard input ends.
import { createServer } from 'node:http';
import { Aedes } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';

const broker = await Aedes.createBroker();
const http = createServer();
const wss = new WebSocketServer({ server: http, handleProtocols: (offered) => (offered.has('mqtt') ? 'mqtt' : false) });
wss.on('connection', (ws) => broker.handle(createWebSocketStream(ws)));
http.listen(0, '127.0.0.1', () => process.stdout.write(`PORT ${http.address().port}\n`));
process.stdin.resume();
process.stdin.on('end', () => {
  broker.close(() => http.close(() => process.exit(0)));
  for (const ws of wss.clients) ws.terminate();
});
