//! Integration tests of the harness: the codec's properties and meshes of
//! mock servers on real loopback sockets.

mod blackhole;
mod codec_props;
mod ds389;
mod exchange;
mod malformed;
mod mesh;
mod relay;
mod spans;
mod support;
mod tls;
mod versions;
