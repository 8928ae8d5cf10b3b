use async_graphql::{Context, Object};

use super::{
    register::Registration,
    types::{AuthPayload, ChangePasswordInput, LoginInput, RegisterInput},
    viewer::{ClientInfo, ViewerExt},
};
use crate::error::GraphqlResult as _;
use crate::graphql::{ServicesExt, replica::wrote_for};

/// The mutations that start and end sessions. The first four take their
/// credentials from their arguments, so they work even when the client still
/// sends an expired access token (see `graphql::auth_gate`).
#[derive(Default)]
pub struct AuthMutation;

fn client(ctx: &Context<'_>) -> ClientInfo {
    ctx.data_opt::<ClientInfo>().cloned().unwrap_or_default()
}

#[Object]
impl AuthMutation {
    async fn register(
        &self,
        ctx: &Context<'_>,
        input: RegisterInput,
    ) -> async_graphql::Result<AuthPayload> {
        let registration = Registration::parse(input)
            .map_err(|e| e.under("input"))
            .extend()?;
        let auth = &ctx.services()?.auth;
        let tokens = auth.register(registration, &client(ctx)).await.extend()?;
        wrote_for(ctx, tokens.user.id);
        Ok(tokens.into())
    }

    async fn login(
        &self,
        ctx: &Context<'_>,
        input: LoginInput,
    ) -> async_graphql::Result<AuthPayload> {
        let auth = &ctx.services()?.auth;
        let tokens = auth
            .login(&input.email, input.password, &client(ctx))
            .await
            .extend()?;
        wrote_for(ctx, tokens.user.id);
        Ok(tokens.into())
    }

    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        refresh_token: String,
    ) -> async_graphql::Result<AuthPayload> {
        let auth = &ctx.services()?.auth;
        let tokens = auth.refresh(&refresh_token).await.extend()?;
        wrote_for(ctx, tokens.user.id);
        Ok(tokens.into())
    }

    /// Ends the session of this refresh token; its access tokens stop working at once.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        refresh_token: String,
    ) -> async_graphql::Result<bool> {
        ctx.services()?.auth.logout(&refresh_token).await.extend()
    }

    /// Ends every other session of the user.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        input: ChangePasswordInput,
    ) -> async_graphql::Result<bool> {
        let viewer = ctx.require_viewer().extend()?;
        ctx.services()?
            .auth
            .change_password(viewer, input.current_password, input.new_password)
            .await
            .map_err(|e| e.under("input"))
            .extend()?;
        Ok(true)
    }
}
