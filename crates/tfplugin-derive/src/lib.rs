//! `#[derive(Model)]`: a struct declares a Terraform block once, and that one declaration gives
//! the block's schema (with every description taken from the doc comments), the decoding of a
//! Terraform value into the struct and the encoding back.
//!
//! The generated code implements `tfplugin::framework::model::Model` and `Field` (so a model
//! can itself be the type of an attribute: an object, or a list of objects). What each field
//! becomes is chosen with `#[tf(...)]`:
//!
//! - no kind (the default): an attribute whose Terraform type comes from the field's Rust type
//!   (`Input<String>`, `Input<i64>`, `Input<Vec<String>>`, `Vec<Entry>`, ...);
//! - `block`: a nested block of the field's model type: `Input<M>` is a single block,
//!   `Input<Vec<M>>` a list block;
//! - `nested`: nested attributes (`attr = { ... }` / `attr = [{ ... }]`), nesting chosen the
//!   same way;
//! - `flatten`: the attributes and blocks of another model, as if written here.
//!
//! Options: `required`, `computed`, `optional_computed`, `sensitive`, `write_only`,
//! `requires_replace`, `use_state_for_unknown`, `default = EXPR`, `validate = EXPR` (repeatable),
//! `deprecated = EXPR`, `description = EXPR` (instead of the doc comment), `name = "..."`
//! (instead of the field's name) and, on blocks, `max_items = N`.
//!
//! Descriptions: a field's doc comment; for a block, the field's doc comment, else the doc
//! comment of the block's struct. Lines of one paragraph are joined with spaces, paragraphs
//! with a blank line, so the text reads as written in the registry docs.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::spanned::Spanned;
use syn::{
    Attribute, Data, DeriveInput, Expr, Fields, GenericArgument, Ident, LitInt, LitStr,
    PathArguments, Type, parse_macro_input,
};

#[proc_macro_derive(Model, attributes(tf))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Attribute,
    Block,
    Nested,
    Flatten,
}

struct FieldSpec {
    ident: Ident,
    ty: Type,
    name: String,
    kind: Kind,
    doc: Option<String>,
    description: Option<Expr>,
    required: bool,
    computed: bool,
    optional_computed: bool,
    sensitive: bool,
    write_only: bool,
    requires_replace: bool,
    use_state_for_unknown: bool,
    default: Option<Expr>,
    validators: Vec<Expr>,
    deprecated: Option<Expr>,
    max_items: Option<LitInt>,
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new(
            input.span(),
            "Model can only be derived for structs",
        ));
    };
    let Fields::Named(named) = &data.fields else {
        return Err(syn::Error::new(
            input.span(),
            "Model needs a struct with named fields",
        ));
    };
    let struct_doc = doc_text(&input.attrs).unwrap_or_default();
    let mut struct_description: Option<Expr> = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("tf")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("description") {
                struct_description = Some(meta.value()?.parse()?);
                Ok(())
            } else {
                Err(meta.error("unknown #[tf] option on a struct (only `description`)"))
            }
        })?;
    }
    let fields = named
        .named
        .iter()
        .map(field_spec)
        .collect::<syn::Result<Vec<_>>>()?;

    let ident = &input.ident;
    let model = quote!(::tfplugin::framework::model);
    let schema = quote!(::tfplugin::framework);
    let description = match &struct_description {
        Some(e) => quote!(#e),
        None => quote!(#struct_doc),
    };

    let mut schema_steps = Vec::new();
    let mut decode_fields = Vec::new();
    let mut encode_steps = Vec::new();
    let mut fallback_fields = Vec::new();
    for f in &fields {
        let fid = &f.ident;
        let ty = &f.ty;
        let name = &f.name;
        match f.kind {
            Kind::Flatten => {
                schema_steps.push(quote! {
                    let inner = <#ty as #model::Model>::block();
                    block = block.attributes(inner.attributes).blocks(inner.blocks);
                });
                decode_fields.push(quote! {
                    #fid: <#ty as #model::Model>::decode_fields(value, path, errors)
                });
                encode_steps.push(quote! {
                    #model::Model::encode_fields(&self.#fid, out);
                });
                fallback_fields.push(quote!(#fid: <#ty as #model::Field>::fallback()));
                continue;
            }
            Kind::Attribute => {
                let opts = attribute_options(f)?;
                schema_steps.push(quote! {
                    block = block.attribute(
                        #schema::Attribute::new(#name, <#ty as #model::Field>::tf_type()) #opts
                    );
                });
            }
            Kind::Nested => {
                let (single, elem) = nesting_of(ty)?;
                let nesting = if single {
                    quote!(#schema::ObjectNesting::Single)
                } else {
                    quote!(#schema::ObjectNesting::List)
                };
                let opts = attribute_options(f)?;
                schema_steps.push(quote! {
                    block = block.attribute(
                        #schema::Attribute::nested(
                            #name,
                            #nesting,
                            <#elem as #model::Model>::block().attributes,
                        ) #opts
                    );
                });
            }
            Kind::Block => {
                let (single, elem) = nesting_of(ty)?;
                let ctor = if single { quote!(single) } else { quote!(list) };
                let inner_description = match (&f.description, &f.doc) {
                    (Some(e), _) => quote!(inner.description = ::std::string::String::from(#e);),
                    (None, Some(d)) => quote!(inner.description = ::std::string::String::from(#d);),
                    (None, None) => quote!(),
                };
                let required = f.required.then(|| quote!(.required()));
                let max = f.max_items.as_ref().map(|n| quote!(.max_items(#n)));
                if f.computed
                    || f.optional_computed
                    || f.default.is_some()
                    || !f.validators.is_empty()
                    || f.sensitive
                    || f.write_only
                    || f.requires_replace
                    || f.use_state_for_unknown
                {
                    return Err(syn::Error::new(
                        f.ident.span(),
                        "a block takes only `required`, `max_items`, `description` and `name`",
                    ));
                }
                schema_steps.push(quote! {
                    let mut inner = <#elem as #model::Model>::block();
                    #inner_description
                    block = block.block(
                        #schema::NestedBlock::#ctor(#name, inner) #required #max
                    );
                });
            }
        }
        decode_fields.push(quote! {
            #fid: #model::decode_attribute::<#ty>(value, #name, path, errors)
        });
        encode_steps.push(quote! {
            out.insert(::std::string::String::from(#name), #model::Field::encode(&self.#fid));
        });
        fallback_fields.push(quote!(#fid: <#ty as #model::Field>::fallback()));
    }

    Ok(quote! {
        impl #model::Model for #ident {
            fn block() -> #schema::Block {
                let mut block = #schema::Block::new(#description);
                #(#schema_steps)*
                block
            }

            fn decode_fields(
                value: &::tfvalue::Value,
                path: &::tfvalue::AttributePath,
                errors: &mut ::std::vec::Vec<#model::DecodeError>,
            ) -> Self {
                Self { #(#decode_fields),* }
            }

            fn encode_fields(
                &self,
                out: &mut ::std::collections::BTreeMap<::std::string::String, ::tfvalue::Value>,
            ) {
                #(#encode_steps)*
            }
        }

        impl #model::Field for #ident {
            const PARTIAL: bool = true;

            fn tf_type() -> ::tfvalue::Type {
                <Self as #model::Model>::block().implied_type()
            }

            fn decode(
                value: &::tfvalue::Value,
                path: &::tfvalue::AttributePath,
            ) -> ::std::result::Result<Self, ::std::vec::Vec<#model::DecodeError>> {
                #model::decode_object::<Self>(value, path)
            }

            fn encode(&self) -> ::tfvalue::Value {
                let mut out = ::std::collections::BTreeMap::new();
                #model::Model::encode_fields(self, &mut out);
                ::tfvalue::Value::Object(out)
            }

            fn fallback() -> Self {
                Self { #(#fallback_fields),* }
            }
        }
    })
}

fn field_spec(field: &syn::Field) -> syn::Result<FieldSpec> {
    let ident = field
        .ident
        .clone()
        .ok_or_else(|| syn::Error::new(field.span(), "unnamed field"))?;
    let mut spec = FieldSpec {
        name: ident.to_string(),
        ident,
        ty: field.ty.clone(),
        kind: Kind::Attribute,
        doc: doc_text(&field.attrs),
        description: None,
        required: false,
        computed: false,
        optional_computed: false,
        sensitive: false,
        write_only: false,
        requires_replace: false,
        use_state_for_unknown: false,
        default: None,
        validators: Vec::new(),
        deprecated: None,
        max_items: None,
    };
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("tf")) {
        attr.parse_nested_meta(|meta| {
            let p = &meta.path;
            let mut set_kind = |k: Kind| {
                if spec.kind != Kind::Attribute {
                    return Err(meta.error("a field has one kind: block, nested or flatten"));
                }
                spec.kind = k;
                Ok(())
            };
            if p.is_ident("block") {
                set_kind(Kind::Block)
            } else if p.is_ident("nested") {
                set_kind(Kind::Nested)
            } else if p.is_ident("flatten") {
                set_kind(Kind::Flatten)
            } else if p.is_ident("required") {
                spec.required = true;
                Ok(())
            } else if p.is_ident("computed") {
                spec.computed = true;
                Ok(())
            } else if p.is_ident("optional_computed") {
                spec.optional_computed = true;
                Ok(())
            } else if p.is_ident("sensitive") {
                spec.sensitive = true;
                Ok(())
            } else if p.is_ident("write_only") {
                spec.write_only = true;
                Ok(())
            } else if p.is_ident("requires_replace") {
                spec.requires_replace = true;
                Ok(())
            } else if p.is_ident("use_state_for_unknown") {
                spec.use_state_for_unknown = true;
                Ok(())
            } else if p.is_ident("default") {
                spec.default = Some(meta.value()?.parse()?);
                Ok(())
            } else if p.is_ident("validate") {
                spec.validators.push(meta.value()?.parse()?);
                Ok(())
            } else if p.is_ident("deprecated") {
                spec.deprecated = Some(meta.value()?.parse()?);
                Ok(())
            } else if p.is_ident("description") {
                spec.description = Some(meta.value()?.parse()?);
                Ok(())
            } else if p.is_ident("name") {
                let s: LitStr = meta.value()?.parse()?;
                spec.name = s.value();
                Ok(())
            } else if p.is_ident("max_items") {
                spec.max_items = Some(meta.value()?.parse()?);
                Ok(())
            } else {
                Err(meta.error("unknown #[tf] option"))
            }
        })?;
    }
    if spec.kind != Kind::Flatten && spec.kind != Kind::Block && spec.description.is_none() {
        // Every attribute is documented: the registry docs and `providers schema -json` show it.
        if spec.doc.is_none() {
            return Err(syn::Error::new(
                spec.ident.span(),
                "document this field (a doc comment becomes its Terraform description)",
            ));
        }
    }
    Ok(spec)
}

/// `.description(..)`, presence and the other builder calls of an attribute.
fn attribute_options(f: &FieldSpec) -> syn::Result<TokenStream2> {
    let description = match (&f.description, &f.doc) {
        (Some(e), _) => quote!(.description(#e)),
        (None, Some(d)) => quote!(.description(#d)),
        (None, None) => quote!(),
    };
    if f.max_items.is_some() {
        return Err(syn::Error::new(
            f.ident.span(),
            "max_items applies to blocks only",
        ));
    }
    let presence = match (f.required, f.computed, f.optional_computed) {
        (true, false, false) => quote!(.required()),
        (false, true, false) => quote!(.computed()),
        (false, false, true) => quote!(.optional_computed()),
        (false, false, false) => quote!(),
        _ => {
            return Err(syn::Error::new(
                f.ident.span(),
                "choose one of required, computed and optional_computed",
            ));
        }
    };
    let default = f.default.as_ref().map(|d| quote!(.default(#d)));
    let validators = f.validators.iter().map(|v| quote!(.validate(#v)));
    let deprecated = f.deprecated.as_ref().map(|d| quote!(.deprecated(#d)));
    // Terraform's rules for write-only attributes (never stored, so never computed, defaulted,
    // kept from state or compared for replacement), refused at compile time.
    if f.write_only
        && (f.computed
            || f.optional_computed
            || f.default.is_some()
            || f.requires_replace
            || f.use_state_for_unknown)
    {
        return Err(syn::Error::new(
            f.ident.span(),
            "write_only cannot be combined with computed, optional_computed, default, requires_replace or use_state_for_unknown",
        ));
    }
    let sensitive = f.sensitive.then(|| quote!(.sensitive()));
    let write_only = f.write_only.then(|| quote!(.write_only()));
    let replace = f.requires_replace.then(|| quote!(.requires_replace()));
    let keep = f
        .use_state_for_unknown
        .then(|| quote!(.use_state_for_unknown()));
    Ok(quote! {
        #description #presence #default #(#validators)* #deprecated #sensitive #write_only #replace #keep
    })
}

/// For a block or nested-attribute field: whether it is single (`Input<M>`) or a list
/// (`Input<Vec<M>>`), and the model type `M`.
fn nesting_of(ty: &Type) -> syn::Result<(bool, Type)> {
    let err = || {
        syn::Error::new(
            ty.span(),
            "a block or nested field must be `Input<Model>` (single) or `Input<Vec<Model>>` (list)",
        )
    };
    let inner = generic_arg(ty, "Input").ok_or_else(err)?;
    match generic_arg(&inner, "Vec") {
        Some(elem) => Ok((false, elem)),
        None => Ok((true, inner)),
    }
}

/// The type argument of `Outer<T>` when `ty`'s last path segment is `outer`.
fn generic_arg(ty: &Type, outer: &str) -> Option<Type> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    if seg.ident != outer {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &seg.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    })
}

/// The doc comment as a Terraform description: lines of a paragraph joined with a space,
/// paragraphs separated by a blank line.
fn doc_text(attrs: &[Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .map(|l| l.strip_prefix(' ').unwrap_or(&l).trim_end().to_owned())
        .collect();
    if lines.is_empty() {
        return None;
    }
    let mut paragraphs: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in lines {
        if line.is_empty() {
            if !current.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
        } else {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(&line);
        }
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    Some(paragraphs.join("\n\n"))
}
