/**
 * Push notifications, per device: turn them on for this browser (the permission is asked
 * only from that click), and for each of the user's devices choose the channels that notify
 * it, send a test, or turn it off. The server delivers to each device from the log like any
 * other destination, so what a device chose is all it gets, in order.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, api, get, post } from '../../api/client.js';
import type { Channel, PushDevice, TestSendResult } from '../../api/types.js';
import { formatTime } from '../../components/format.js';
import { useSingleFlight } from '../../components/use-single-flight.js';
import {
  PushSetupError,
  askPermission,
  currentSubscription,
  deviceLabel,
  forgetDevice,
  notificationPermission,
  pushUnsupported,
  rememberDevice,
  rememberedDevice,
  subscribe,
} from '../../pwa/web-push.js';
import { useSignedIn } from '../../state/session.js';

type Message = { tone: 'error' | 'success' | 'info'; text: string };

export function NotificationsSection() {
  const { me } = useSignedIn();
  const [devices, setDevices] = useState<PushDevice[] | null>(null);
  const [endpoint, setEndpoint] = useState<string | null>(null);
  const [message, setMessage] = useState<Message | null>(null);
  const { busy, run } = useSingleFlight();
  const unsupported = useMemo(pushUnsupported, []);
  const ref = useRef<HTMLElement>(null);

  const load = useCallback(async () => {
    try {
      const [list, subscription] = await Promise.all([
        get<{ items: PushDevice[] }>('/api/push/subscriptions'),
        currentSubscription().catch(() => null),
      ]);
      setDevices(list.items);
      setEndpoint(subscription?.endpoint ?? null);
    } catch (error) {
      setMessage({ tone: 'error', text: `Your devices could not be loaded: ${describe(error)}` });
    }
  }, []);
  useEffect(() => {
    void load();
    // Coming back to the page shows the latest deliveries and errors of each device.
    const onVisible = () => {
      if (!document.hidden) void load();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, [load]);

  // Reached from the dashboard's link: bring the section into view once it is on screen.
  useEffect(() => {
    if (location.hash === '#notifications') ref.current?.scrollIntoView({ block: 'start' });
  }, []);

  const thisId = rememberedDevice(endpoint);
  const thisDevice = devices?.find((d) => d.id === thisId) ?? null;

  const turnOn = () =>
    run(async () => {
      setMessage(null);
      try {
        await askPermission();
        const { publicKey } = await get<{ publicKey: string }>('/api/push/key');
        const subscription = await subscribe(publicKey);
        const json = subscription.toJSON();
        // The schema is strict: only the fields a subscription is, whatever else toJSON() grows.
        const device = await post<PushDevice>('/api/push/subscriptions', {
          endpoint: json.endpoint ?? subscription.endpoint,
          expirationTime: json.expirationTime ?? null,
          keys: { p256dh: json.keys?.p256dh ?? '', auth: json.keys?.auth ?? '' },
          label: deviceLabel(),
        });
        rememberDevice(subscription.endpoint, device.id);
        setEndpoint(subscription.endpoint);
        await load();
      } catch (error) {
        setMessage({ tone: 'error', text: failureText(error) });
      }
    });

  return (
    <section
      className="card stack section-gap anchor-target"
      id="notifications"
      ref={ref}
      aria-labelledby="notifications-heading"
    >
      <h2 id="notifications-heading">Notifications</h2>
      <p className="muted">
        Get each new signal and its updates — a take-profit hit, the stop moved, a close — on this phone or computer,
        even while signal-desk is closed. Each device chooses its channels. A device that is offline gets them when it
        is back, for up to a day.
      </p>
      {unsupported ? (
        <p className="notice notice--warning" role="status">
          {unsupported}
        </p>
      ) : thisDevice ? (
        <p className="notice notice--success" role="status">
          Notifications are on for this device.
        </p>
      ) : (
        <div className="actions">
          <button type="button" className="button button--primary" disabled={busy} onClick={() => void turnOn()}>
            {busy ? 'Turning on…' : 'Turn on notifications on this device'}
          </button>
          {notificationPermission() === 'denied' ? (
            <span className="muted small">Notifications are blocked for this site in this browser.</span>
          ) : null}
        </div>
      )}
      {message ? (
        <p className={`notice notice--${message.tone}`} role={message.tone === 'error' ? 'alert' : 'status'}>
          {message.text}
        </p>
      ) : null}
      <h3 className="subheading">Your devices</h3>
      {devices === null ? (
        <p className="muted small" aria-busy="true">
          Loading…
        </p>
      ) : devices.length === 0 ? (
        <p className="muted small">No device has notifications on.</p>
      ) : (
        <ul className="plain-list" aria-label="Devices with notifications">
          {devices.map((device) => (
            <DeviceItem
              key={device.id}
              device={device}
              channels={me.channels}
              isThis={device.id === thisId}
              onChanged={load}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

function DeviceItem(props: { device: PushDevice; channels: Channel[]; isThis: boolean; onChanged(): Promise<void> }) {
  const { device } = props;
  const [chosen, setChosen] = useState(device.channels);
  const [message, setMessage] = useState<Message | null>(null);
  const { busy, run } = useSingleFlight();
  // Ticks in quick succession are saved one after another, each with the whole list.
  const saving = useRef<Promise<void>>(Promise.resolve());
  const base = `/api/push/subscriptions/${encodeURIComponent(device.id)}`;

  useEffect(() => setChosen(device.channels), [device.channels]);

  const toggle = (slug: string) => {
    const next = chosen.includes(slug) ? chosen.filter((c) => c !== slug) : [...chosen, slug];
    setChosen(next);
    saving.current = saving.current.then(async () => {
      try {
        await api('PATCH', base, { channels: next });
        setMessage(null);
      } catch (error) {
        setChosen(device.channels);
        setMessage({ tone: 'error', text: `Not saved: ${describe(error)}` });
      }
    });
  };

  const test = () =>
    run(async () => {
      setMessage(null);
      try {
        const result = await post<TestSendResult>(`${base}/test`);
        setMessage(
          result.ok
            ? { tone: 'success', text: `Test sent: the push service accepted it (${result.status ?? 'ok'}).` }
            : { tone: 'error', text: `The test did not go through: ${result.error ?? `status ${result.status}`}` },
        );
        // Its state may have moved (a push service that says the device is gone has it removed).
        await props.onChanged();
      } catch (error) {
        setMessage({ tone: 'error', text: describe(error) });
      }
    });

  const turnOff = () =>
    run(async () => {
      setMessage(null);
      try {
        await api('DELETE', base);
        if (props.isThis) {
          forgetDevice();
          // The server sends nothing more; this also tells the browser's push service.
          await (await currentSubscription())?.unsubscribe().catch(() => false);
        }
        await props.onChanged();
      } catch (error) {
        setMessage({ tone: 'error', text: describe(error) });
      }
    });

  return (
    <li className="device" data-testid="push-device" data-this={props.isThis ? 'true' : undefined}>
      <div className="device__head">
        <strong>{device.label}</strong>
        {props.isThis ? <span className="badge badge--new">This device</span> : null}
        {device.state !== 'active' ? <span className="badge badge--warn">{device.state}</span> : null}
        <span className="muted small">via {device.pushService}</span>
      </div>
      <p className="muted small">
        {device.lastSuccessAt
          ? `Last notification ${formatTime(device.lastSuccessAt)}`
          : `On since ${formatTime(device.createdAt)}; no signal delivered yet`}
      </p>
      {device.lastError ? <p className="field__error">Last error: {device.lastError}</p> : null}
      <fieldset className="field device__channels">
        <legend>Channels that notify {props.isThis ? 'this device' : device.label}</legend>
        {props.channels.length === 0 ? <p className="muted small">You have no channels yet.</p> : null}
        <div className="checks">
          {props.channels.map((c) => (
            <label key={c.slug} className="check">
              <input type="checkbox" checked={chosen.includes(c.slug)} onChange={() => toggle(c.slug)} />
              {c.name}
            </label>
          ))}
        </div>
        {props.channels.length > 0 && chosen.length === 0 ? (
          <p className="field__hint">No channel is ticked: this device gets nothing.</p>
        ) : null}
      </fieldset>
      <div className="actions">
        <button type="button" className="button button--small" disabled={busy} onClick={() => void test()}>
          Send a test
        </button>
        <button
          type="button"
          className="button button--small button--bad"
          disabled={busy}
          onClick={() => void turnOff()}
        >
          Turn off
        </button>
      </div>
      {message ? (
        <p className={`notice notice--${message.tone} small`} role={message.tone === 'error' ? 'alert' : 'status'}>
          {message.text}
        </p>
      ) : null}
    </li>
  );
}

function failureText(error: unknown): string {
  if (error instanceof PushSetupError) return error.message;
  if (error instanceof ApiError) {
    if (error.status === 0) return `The server could not be reached: ${error.message}.`;
    if (error.status === 503) return `This server cannot send notifications right now: ${error.message}.`;
    return `The server did not accept this device: ${error.message}.`;
  }
  return `Notifications could not be turned on: ${describe(error)}`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
