//! Desktop notifications over D-Bus (`org.freedesktop.Notifications`, which every Linux desktop serves), for
//! `[notify] desktop = "dbus"`. One session-bus connection is opened on first use and kept; where no session bus
//! runs (SSH, a console) the first failure is reported once and later notifications are skipped quietly.

use std::collections::HashMap;

use zbus::zvariant::Value;

/// Sends notifications on the session bus.
#[derive(Default)]
pub struct DbusNotifier {
    connection: Option<zbus::Connection>,
    /// The bus could not be reached: stop trying.
    unavailable: bool,
}

impl DbusNotifier {
    /// Shows `title` and `body`. Returns a sentence for the person the first time the desktop cannot be reached.
    pub async fn notify(&mut self, title: &str, body: &str) -> Option<String> {
        if self.unavailable {
            return None;
        }
        match self.send(title, body).await {
            Ok(()) => None,
            Err(e) => {
                self.unavailable = true;
                self.connection = None;
                tracing::info!(error = %e, "desktop notifications over D-Bus are unavailable");
                Some(
                    "Desktop notifications need a D-Bus session with a notification service, and none answered; \
                     set [notify] desktop to \"osc777\" or \"osc9\" for your terminal instead."
                        .to_owned(),
                )
            }
        }
    }

    async fn send(&mut self, title: &str, body: &str) -> zbus::Result<()> {
        if self.connection.is_none() {
            self.connection = Some(zbus::Connection::session().await?);
        }
        let Some(connection) = &self.connection else { return Ok(()) };
        let hints: HashMap<&str, Value<'_>> = HashMap::new();
        connection
            .call_method(
                Some("org.freedesktop.Notifications"),
                "/org/freedesktop/Notifications",
                Some("org.freedesktop.Notifications"),
                "Notify",
                // app name, id to replace, icon, summary, body, actions, hints, timeout (-1: the server's default)
                &("Huddle", 0u32, "", title, body, Vec::<&str>::new(), hints, -1i32),
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
