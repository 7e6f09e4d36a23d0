//! Integration tests of the harness: the codec's properties and a mesh of
//! mock servers on real loopback sockets.

mod codec_props;
mod mesh;
mod relay;
mod support;
mod tls;
