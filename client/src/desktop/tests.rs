//! The D-Bus notifier against a throwaway session bus, with a fake notification service.

use super::*;

/// A notification service that records what it was asked to show.
struct FakeService(std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>);

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl FakeService {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        _app: String,
        _replaces: u32,
        _icon: String,
        summary: String,
        body: String,
        _actions: Vec<String>,
        _hints: HashMap<String, zbus::zvariant::OwnedValue>,
        _timeout: i32,
    ) -> u32 {
        if let Ok(mut seen) = self.0.lock() {
            seen.push((summary, body));
        }
        1
    }
}

/// Run by `.ci/run` inside a throwaway D-Bus session (`HUDDLE_TEST_KEYRING=1`); without it, it checks nothing,
/// since a developer's real desktop must not get test notifications.
#[test]
fn a_notification_reaches_the_desktop_service_and_its_absence_is_said_once() {
    if std::env::var_os("HUDDLE_TEST_KEYRING").is_none() {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        // No service on the bus yet: one sentence, then silence.
        let mut absent = DbusNotifier::default();
        assert!(absent.notify("bob", "hi").await.is_some());
        assert!(absent.notify("bob", "hi again").await.is_none());

        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let _service = zbus::connection::Builder::session()
            .unwrap()
            .name("org.freedesktop.Notifications")
            .unwrap()
            .serve_at("/org/freedesktop/Notifications", FakeService(seen.clone()))
            .unwrap()
            .build()
            .await
            .unwrap();
        let mut notifier = DbusNotifier::default();
        assert_eq!(notifier.notify("bob in crew", "are you coming?").await, None);
        assert_eq!(seen.lock().unwrap().clone(), vec![("bob in crew".to_owned(), "are you coming?".to_owned())]);
    });
}
