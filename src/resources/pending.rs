//! Behaviour of the resources until applying to a cluster lands (issue 6): the schema, schema
//! validation and offline planning of `id` work; create, update and import fail with a
//! diagnostic that says so, and never pretend to have changed anything.

use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use tfplugin::framework::{
    ApplyRequest, ApplyResponse, Context, DeleteRequest, Diagnostic, Diagnostics, ImportResponse,
    PlanRequest, PlanResponse, ReadRequest, ReadResponse, Resource, Schema,
};
use tfvalue::Value;

use crate::provider::Configured;

pub struct Pending {
    type_name: &'static str,
    schema: fn() -> Schema,
    #[allow(dead_code)] // read by the real implementations
    configured: Arc<RwLock<Configured>>,
}

impl Pending {
    pub fn new(
        type_name: &'static str,
        schema: fn() -> Schema,
        configured: Arc<RwLock<Configured>>,
    ) -> Self {
        Self {
            type_name,
            schema,
            configured,
        }
    }

    fn not_yet(&self, what: &str) -> Diagnostic {
        Diagnostic::error(
            format!("{} cannot {what} yet", self.type_name),
            format!(
                "This build of terraform-provider-thanos validates and plans {} but does not yet \
                 {what} it on a cluster. Nothing was changed in the cluster.",
                self.type_name
            ),
        )
    }
}

#[async_trait]
impl Resource for Pending {
    fn type_name(&self) -> &'static str {
        self.type_name
    }

    fn schema(&self) -> Schema {
        (self.schema)()
    }

    async fn plan(&self, _context: &Context, request: PlanRequest) -> PlanResponse {
        let mut planned = request.planned.clone();
        // The id is derived from configuration alone, so it is known at plan time.
        let ns = planned
            .get_attr("namespace")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let name = planned
            .get_attr("name")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let (Some(ns), Some(name), Some(id)) = (ns, name, planned.get_attr_mut("id")) {
            *id = Value::from(format!("{ns}/{name}"));
        }
        PlanResponse {
            planned,
            ..PlanResponse::unchanged(request)
        }
    }

    async fn create(&self, _context: &Context, _request: ApplyRequest) -> ApplyResponse {
        ApplyResponse {
            state: None,
            private: Vec::new(),
            diagnostics: self.not_yet("create").into(),
        }
    }

    async fn read(&self, _context: &Context, request: ReadRequest) -> ReadResponse {
        ReadResponse {
            state: Some(request.state),
            private: request.private,
            diagnostics: Diagnostics::new(),
            deferred: None,
        }
    }

    async fn update(&self, _context: &Context, _request: ApplyRequest) -> ApplyResponse {
        ApplyResponse {
            state: None,
            private: Vec::new(),
            diagnostics: self.not_yet("update").into(),
        }
    }

    async fn delete(&self, _context: &Context, _request: DeleteRequest) -> Diagnostics {
        self.not_yet("delete").into()
    }

    async fn import(&self, _context: &Context, _id: &str) -> ImportResponse {
        ImportResponse {
            state: None,
            private: Vec::new(),
            diagnostics: self.not_yet("import").into(),
        }
    }
}
