//! Device sessions: the origin's own check of a caller, new sessions (a slot from the core log
//! and a token), the sessions list, signing out one device or all of them (user and admin), and
//! the activity log.

use epochgate::{AccountId, DeviceSlot, Epoch, MintRequest, Reason, SessionId};
use worker::Response;

use super::ctx::{Caller, Claimed, Ctx};
use super::proof::{Auth, Proof};
use super::push::Push;
use super::store::SessionRow;
use super::wire::{self, AdminSession, Device, Empty, Issued, NewEpoch, SessionOut, Sessions};
use crate::error::{ApiCode, ApiError};
use crate::host::random_id;
use crate::http::{json, no_content, parse_json};
use crate::vocab::{ActivityKind, SessionStatus, SignOutScope};

type R<T> = std::result::Result<T, ApiError>;

fn unknown_session(id: &str) -> ApiError {
    ApiError::new(
        ApiCode::UnknownSession,
        format!("no session {id:?} on this account"),
    )
}

fn account_id(account: &str) -> R<AccountId> {
    AccountId::new(account).ok_or_else(|| ApiError::invalid(AccountId::RULE))
}

impl Ctx<'_> {
    /// The origin's own check of a verified identity against its authoritative state: the
    /// edge's view may be up to the staleness target behind.
    pub(super) fn authorize(&self, claimed: Claimed) -> R<Caller> {
        let state = self.log()?.state_of(&claimed.account)?;
        if let Some(reason) = state.state.check(claimed.epoch, claimed.device) {
            let message = match reason {
                Reason::RevokedAll => {
                    "the account signed out of all devices after this token was issued"
                }
                _ => "this device was signed out",
            };
            return Err(ApiError::refused(reason, message));
        }
        let session = self
            .store()
            .session(&claimed.account, claimed.session.as_str())?
            .filter(|s| {
                s.status == SessionStatus::Active
                    && s.slot == claimed.device
                    && s.epoch == claimed.epoch
            })
            .ok_or_else(|| {
                ApiError::refused(
                    Reason::RevokedDevice,
                    "this session is not active at the origin",
                )
            })?;
        self.store()
            .touch_session(&session.id, self.now, self.ready.last_seen_interval)?;
        Ok(Caller {
            account: claimed.account,
            session,
        })
    }

    /// A token for a session's slot and epoch, carrying `auth_time` and `amr` when the caller
    /// just proved who they are (`None`: a session minted by the admin API, whose
    /// authentication happened elsewhere).
    pub(super) fn mint(
        &self,
        account: &AccountId,
        session: &SessionId,
        slot: DeviceSlot,
        epoch: Epoch,
        auth: Option<&Auth>,
    ) -> R<Issued> {
        let amr = auth.map(|a| a.amr.as_slice());
        let token = self
            .ready
            .issuer
            .mint(&MintRequest {
                account: account.as_str(),
                session: session.as_str(),
                device: u32::from(slot.0),
                epoch: u64::from(epoch.0),
                now: self.now,
                ttl: None,
                jti: None,
                auth_time: auth.map(|a| a.at),
                amr,
            })
            .map_err(ApiError::internal)?;
        let ttl = i64::try_from(self.ready.profile.ttl).unwrap_or(i64::MAX);
        Ok(wire::issued(
            token,
            session.as_str(),
            slot,
            epoch,
            self.now.saturating_add(ttl),
        ))
    }

    /// Takes a slot through the core log, records the session (logged as `kind`) and mints
    /// its token.
    pub(super) fn new_session(
        &self,
        account: &AccountId,
        device: Device,
        kind: ActivityKind,
        auth: Option<&Auth>,
    ) -> R<Issued> {
        let (slot, epoch) = {
            let mut log = self.log()?;
            (log.allocate_device(account)?, log.epoch_of(account)?)
        };
        let id =
            SessionId::new(&random_id("s_")?).ok_or_else(|| ApiError::internal("session id"))?;
        self.store().insert_session(&SessionRow {
            id: id.clone(),
            account: account.clone(),
            slot,
            epoch,
            name: device.name,
            kind: device.kind,
            user_agent: self.client.user_agent.clone(),
            ip: self.client.ip.clone(),
            location: self.client.location.clone(),
            created_at: self.now,
            last_seen_at: self.now,
            status: SessionStatus::Active,
        })?;
        self.note(account, kind, Some(&id))?;
        self.mint(account, &id, slot, epoch, auth)
    }

    pub(super) fn list_sessions(&self, c: &Caller) -> R<Response> {
        let rows = self.store().sessions(&c.account)?;
        let sessions = rows
            .iter()
            .map(|s| SessionOut::new(s, s.id == c.session.id))
            .collect();
        Ok(json(200, &Sessions { sessions })?)
    }

    pub(super) fn activity(&self, c: &Caller) -> R<Response> {
        let events = self.store().events(&c.account)?;
        Ok(json(200, &wire::Activity { events })?)
    }

    /// Signs out one session of `account`; repeating it changes nothing. 204.
    pub(super) fn sign_out_one(&self, account: &AccountId, id: &str) -> R<Response> {
        let target = self
            .store()
            .session(account, id)?
            .ok_or_else(|| unknown_session(id))?;
        if target.status == SessionStatus::Active {
            // A session of an older epoch was signed out by the epoch move already.
            self.log()?
                .revoke_device_of_epoch(account, target.epoch, target.slot)?;
            self.store().sign_out_session(&target.id)?;
            self.note(account, ActivityKind::SignOut, Some(&target.id))?;
            self.sockets
                .signed_out(Push::Session(&target.id), SignOutScope::Device);
        }
        Ok(no_content()?)
    }

    /// `E += 1` through the core log, every session but `keep` marked signed out, `keep` moved
    /// to a new slot with a fresh token. Returns the new epoch and that token.
    fn revoke_all(
        &self,
        account: &AccountId,
        keep: Option<(&SessionRow, &Auth)>,
    ) -> R<(Epoch, Option<Issued>)> {
        let epoch = self.log()?.revoke_all(account)?;
        let issued = match keep {
            Some((s, auth)) => {
                let slot = self.log()?.allocate_device(account)?;
                self.store().reslot_session(&s.id, slot, epoch, self.now)?;
                Some(self.mint(account, &s.id, slot, epoch, Some(auth))?)
            }
            None => None,
        };
        let keep = keep.map(|(s, _)| &s.id);
        self.store().sign_out_all_sessions(account, keep)?;
        self.sockets
            .signed_out(Push::Account { account, keep }, SignOutScope::All);
        Ok((epoch, issued))
    }

    /// Signs out every device of the account without keeping one (password reset, the
    /// secure-account link), logs `kind`, and returns how many sessions were active.
    pub(super) fn sign_out_everything(&self, account: &AccountId, kind: ActivityKind) -> R<usize> {
        let active = self
            .store()
            .sessions(account)?
            .iter()
            .filter(|s| s.status == SessionStatus::Active)
            .count();
        self.revoke_all(account, None)?;
        self.note(account, kind, None)?;
        Ok(active)
    }

    pub(super) fn sign_out_all(&self, c: &Caller, body: &[u8]) -> R<Response> {
        let b: wire::SignOutAll = parse_json(body)?;
        let account = self.store().account_by_id(&c.account)?;
        let auth = self.reauthenticate(c, account.as_ref(), Proof::Any, &b.proof.offer(None))?;
        self.sign_out_others(
            c,
            b.keep_current.unwrap_or(false),
            ActivityKind::SignOutAll,
            &auth,
        )
    }

    /// Moves the account to a new epoch (keeping the caller's device with a fresh token, which
    /// carries the re-authentication `auth`, when asked), records `kind` and answers
    /// `{epoch, token?}`.
    pub(super) fn sign_out_others(
        &self,
        c: &Caller,
        keep_current: bool,
        kind: ActivityKind,
        auth: &Auth,
    ) -> R<Response> {
        let keep = keep_current.then_some((&c.session, auth));
        let (epoch, issued) = self.revoke_all(&c.account, keep)?;
        self.note(&c.account, kind, Some(&c.session.id))?;
        Ok(json(200, &NewEpoch::new(epoch, issued))?)
    }

    pub(super) fn admin_session(&self, account: &str, body: &[u8]) -> R<Response> {
        let account = account_id(account)?;
        let b: AdminSession = parse_json(body)?;
        let issued = self.new_session(
            &account,
            wire::device(b.device)?,
            ActivityKind::SignIn,
            None,
        )?;
        Ok(json(201, &issued)?)
    }

    pub(super) fn admin_sign_out_one(&self, account: &str, id: &str) -> R<Response> {
        // No such account holds no such session.
        let account = AccountId::new(account).ok_or_else(|| unknown_session(id))?;
        self.sign_out_one(&account, id)
    }

    /// With an `Idempotency-Key`, the first answer is stored with the epoch move (one
    /// transaction) and replayed for 24 h.
    pub(super) fn admin_sign_out_all(
        &self,
        account: &str,
        body: &[u8],
        key: Option<String>,
    ) -> R<Response> {
        let account = account_id(account)?;
        let _: Empty = parse_json(body)?;
        if let Some(k) = &key {
            if k.len() > 200 {
                return Err(ApiError::invalid(
                    "Idempotency-Key must be at most 200 bytes",
                ));
            }
            if let Some((status, stored)) = self.store().idempotent(&account, k, self.now)? {
                let value: serde_json::Value =
                    serde_json::from_str(&stored).map_err(ApiError::internal)?;
                return Ok(json(status, &value)?);
            }
        }
        let (epoch, _) = self.revoke_all(&account, None)?;
        self.note(&account, ActivityKind::SignOutAll, None)?;
        let answer = NewEpoch::new(epoch, None);
        if let Some(k) = &key {
            let stored = serde_json::to_string(&answer).map_err(ApiError::internal)?;
            self.store().remember(&account, k, 200, &stored, self.now)?;
        }
        Ok(json(200, &answer)?)
    }
}
