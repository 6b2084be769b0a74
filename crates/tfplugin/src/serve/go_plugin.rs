//! go-plugin's side services: the controller (Shutdown), stdio forwarding and the broker.

use std::pin::Pin;

use futures::Stream;
use tokio::sync::watch;
use tonic::{Request, Response, Status, Streaming};

use crate::pb::plugin::{
    ConnInfo, Empty, StdioData, grpc_broker_server, grpc_controller_server, grpc_stdio_server,
};

/// `plugin.GRPCController`: Terraform calls Shutdown at the end of every phase.
pub struct Controller {
    shutdown: watch::Sender<bool>,
}

impl Controller {
    pub fn new(shutdown: watch::Sender<bool>) -> Self {
        Self { shutdown }
    }
}

#[tonic::async_trait]
impl grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        // Answer first, then stop: the serve loop exits right after this response is sent.
        let _ = self.shutdown.send(true);
        Ok(Response::new(Empty {}))
    }
}

type Idle<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// `plugin.GRPCStdio`: Go plugins forward stray stdout/stderr writes here. Ours go straight to
/// stderr, so the stream stays open and silent (closing it would make go-plugin log a warning).
pub struct Stdio;

#[tonic::async_trait]
impl grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = Idle<StdioData>;

    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        Ok(Response::new(Box::pin(futures::stream::pending())))
    }
}

/// `plugin.GRPCBroker`: used by plugins that open extra connections; providers never do. We keep
/// the stream Terraform opens at connect time open until it closes it.
pub struct Broker;

#[tonic::async_trait]
impl grpc_broker_server::GrpcBroker for Broker {
    type StartStreamStream = Idle<ConnInfo>;

    async fn start_stream(
        &self,
        request: Request<Streaming<ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        let mut inbound = request.into_inner();
        tokio::spawn(async move { while let Ok(Some(_)) = inbound.message().await {} });
        Ok(Response::new(Box::pin(futures::stream::pending())))
    }
}
