/**
 * ringloop: a multi-reactor event-loop networking runtime for Node.js.
 *
 * @example
 * ```ts
 * import { serve } from 'ringloop';
 * const engine = await serve(new URL('./echo.js', import.meta.url), 'tcp://127.0.0.1:9000', { multicore: true });
 * ```
 */
export { serve, Engine, type StopOptions, type EngineStats } from './engine/engine.js';
export { Action, defineHandler } from './handler.js';
export { loopNow } from './loop_clock.js';
export type { EventHandler, HandlerExport, InitInfo, ReactResult, TickResult, Output } from './handler.js';
export { Delivery, type Conn, type ConnRef, type SocketOptions, type TlsInfo, type TlsCertificate } from './conn.js';
export type { PublishResult } from './conn.js';
export type { ServeOptions } from './engine/options.js';
export type { TlsOptions, TlsIdentity, ListenSpec, PemInput } from './engine/tls_options.js';
export { LoadBalancing } from './engine/balancer.js';
export { Remote, connect, type EngineHandle } from './channel/remote.js';
export { Disruptor, type DisruptorOptions } from './channel/disruptor.js';
export { postToEngine } from './channel/post.js';
export { Job } from './pool/job.js';
export type { WriteAck } from './channel/acks.js';
export type { PoolOptions } from './pool/pool.js';
export { parseAddress, type ListenAddress } from './engine/address.js';
export type { ErrnoError } from './errors.js';
export type { DialOptions, DialTlsOptions, ProxyHeaderSpec, ProxyInfo } from './dial.js';
export { parseDialAddress } from './channel/dial_address.js';
export type { CodecErrorCode } from './errors.js';
export { FrameStatus, FrameError, LengthFieldEncoder, HTTP1_FIXED_INTS, respRecordInts, http1RecordInts } from './codec.js';
export type { CodecOptions, Frames } from './codec.js';
export type { CloseError, JobError, JobErrorCode, TlsError, ThrownError } from './error_types.js';
export type { EngineEvents, EngineEventName, EngineListener } from './engine_events.js';
export type { HandlerConn, TypedHandler, TypedHandlerExport, TypedHandlerFactory, TypedOffload, JobName, JobPayload } from './typed_handler.js';
export type { PoolStats } from './pool/stats.js';
