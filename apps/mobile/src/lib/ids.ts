import * as Crypto from "expo-crypto";

/** A random UUID for idempotency keys and search sessions. */
export function newKey(): string {
  return Crypto.randomUUID();
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * A W3C trace context header for a new trace: version 00, a random trace
 * id and parent span id, sampled. The edge and the services continue it, so
 * one tap can be followed from the phone to the database.
 */
export function newTraceparent(): string {
  let trace = hex(Crypto.getRandomBytes(16));
  let span = hex(Crypto.getRandomBytes(8));
  // All-zero ids are invalid; with 128 random bits this is theoretical.
  if (/^0+$/.test(trace)) trace = "1".padStart(32, "0");
  if (/^0+$/.test(span)) span = "1".padStart(16, "0");
  return `00-${trace}-${span}-01`;
}
