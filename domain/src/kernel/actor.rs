//! Who is acting: a signed-in user with the role they have now.

use uuid::Uuid;

/// What a user may do.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Guest,
    Host,
    Admin,
}

impl From<entity::user::Role> for Role {
    fn from(role: entity::user::Role) -> Self {
        match role {
            entity::user::Role::Guest => Self::Guest,
            entity::user::Role::Host => Self::Host,
            entity::user::Role::Admin => Self::Admin,
        }
    }
}

impl From<Role> for entity::user::Role {
    fn from(role: Role) -> Self {
        match role {
            Role::Guest => Self::Guest,
            Role::Host => Self::Host,
            Role::Admin => Self::Admin,
        }
    }
}

/// Who is acting, with the role they have now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Uuid,
    pub role: Role,
}

impl Actor {
    pub fn is_admin(self) -> bool {
        self.role == Role::Admin
    }

    /// Hosts and admins may create listings.
    pub fn can_host(self) -> bool {
        matches!(self.role, Role::Host | Role::Admin)
    }

    /// The owner of something, or an admin.
    pub fn owns_or_admin(self, owner: Uuid) -> bool {
        self.user_id == owner || self.is_admin()
    }
}
