//! The D-Bus notifier against a throwaway session bus, with a fake notification service that reads the `Notify`
//! calls off the bus as they come (one argument tuple, as the desktop's service receives it).

use futures_util::StreamExt;

use super::*;

/// The arguments of `org.freedesktop.Notifications.Notify`: app, id to replace, icon, summary, body, actions, hints,
/// timeout.
type NotifyCall = (String, u32, String, String, String, Vec<String>, HashMap<String, zbus::zvariant::OwnedValue>, i32);

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

        // The fake service: owns the name, answers the first Notify with an id, and hands over what it was asked.
        let service = zbus::Connection::session().await.unwrap();
        service.request_name("org.freedesktop.Notifications").await.unwrap();
        let mut calls = zbus::MessageStream::from(&service);
        let served = tokio::spawn(async move {
            while let Some(Ok(message)) = calls.next().await {
                if message.header().member().is_some_and(|m| m.as_str() == "Notify") {
                    let call: NotifyCall = message.body().deserialize().unwrap();
                    service.reply(&message, &1u32).await.unwrap();
                    return (call.3, call.4);
                }
            }
            panic!("the bus closed before a notification came");
        });

        let mut notifier = DbusNotifier::default();
        assert_eq!(notifier.notify("bob in crew", "are you coming?").await, None);
        assert_eq!(served.await.unwrap(), ("bob in crew".to_owned(), "are you coming?".to_owned()));
    });
}
