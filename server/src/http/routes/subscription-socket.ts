/**
 * The websocket endpoint of subscriptions (`/ws/subscriptions`, advertised
 * by $get-ws-binding-token and the CapabilityStatement): each connection is
 * handed to the hub (subscriptions/websocket-hub.ts); nothing is sent before
 * a valid `bind-with-token`.
 */
import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import { SOCKET_PATH, type WebsocketHub } from '../../subscriptions/websocket-hub.ts';

export async function registerSubscriptionSocket(app: FastifyInstance, hub: WebsocketHub): Promise<void> {
  await app.register(websocket, { options: { maxPayload: 16 * 1024 } });
  app.register(async (scope) => {
    scope.get(SOCKET_PATH, { websocket: true }, (socket) => {
      const connection = hub.connected({
        send: (text) => {
          if (socket.readyState === socket.OPEN) socket.send(text);
        },
        close: (code, reason) => socket.close(code, reason),
      });
      socket.on('message', (data) => connection.message(data.toString()));
      socket.on('close', () => connection.closed());
    });
  });
}
