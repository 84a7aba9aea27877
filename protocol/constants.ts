/**
 * Largest encoded packet, in bytes, that {@link encodePacket} produces and {@link decodePacket}
 * accepts. Equal to the default max receive message size of grpc-go and grpc-js (4 MiB), so any
 * packet a stock ANP peer can deliver is accepted. Transports should use it as their message cap
 * (`grpc.max_receive_message_length`, ws `maxPayload`).
 */
export const MAX_PACKET_BYTES = 4 * 1024 * 1024;

/**
 * Largest DATA payload, in bytes, that Spokelink senders put into one packet. Bigger writes are
 * split. This is a sender-side cap only: stock ANP peers may send bigger DATA packets (the
 * konnectivity client sends one packet per `Write`), up to {@link MAX_PACKET_BYTES}, and take
 * ours (far below their 4 MiB message limit). 128 KiB, not 64: a 64 KiB write through a TLS
 * socket layered on a stream comes out as about 65.6 KiB of records, which a 64 KiB cap split
 * into a full packet and a tiny one — half again as many packets (and per-packet costs on every
 * hop) for the same bytes.
 */
export const MAX_DATA_CHUNK_BYTES = 128 * 1024;

/**
 * Credit, in bytes, that each direction of a stream starts with when the `flow-control`
 * extension is in effect. Fixed by the protocol (there is no settings exchange): a receiver
 * that wants a bigger window grants the difference with EXT_WINDOW_UPDATE.
 */
export const INITIAL_STREAM_WINDOW_BYTES = 256 * 1024;

/**
 * The initial credit instead, in bytes, when both peers announced the `initial-window-64k`
 * extension (HTTP/2's default window is the same size). A stream whose reader stalls then
 * holds a quarter as much on the receiving side; a stream that keeps draining grows its window
 * by auto-tuning within its first megabytes.
 */
export const SMALL_INITIAL_STREAM_WINDOW_BYTES = 64 * 1024;

/**
 * Upper bound, in bytes, on a stream's window: a receiver never grants credit beyond it and a
 * sender treats a grant that would exceed it as a flow-control violation.
 */
export const MAX_STREAM_WINDOW_BYTES = 16 * 1024 * 1024;

/**
 * Bytes a receiver buffers for one stream of a peer that does not do flow control (plain ANP)
 * before it resets that stream alone. Two maximum-size packets, so one legitimate big packet
 * never trips it.
 */
export const LEGACY_STREAM_BUFFER_BYTES = 2 * MAX_PACKET_BYTES;

/** Longest DIAL_REQ address accepted, in UTF-16 code units (`[ipv6%zone]:port` and DNS names fit). */
export const MAX_DIAL_ADDRESS_LENGTH = 512;
