// The piscina task of the node:net + piscina offload peer: a trivial job that
// hands the bytes straight back, like examples/blocking-echo's `immediate`.
export default function echoJob(data: Uint8Array): Uint8Array {
  return data;
}
