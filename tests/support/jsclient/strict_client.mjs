// A matrix-js-sdk client that behaves like current Element, for integration
// tests: its own device is cross-signed, and in "strict" mode it excludes
// insecure devices (MSC4153, OnlySignedDevicesIsolationMode).
//
// Usage: node strict_client.mjs HOMESERVER USER_ID PASSWORD [strict|legacy]
// (or JSCLIENT_HOMESERVER, JSCLIENT_USER, JSCLIENT_PASSWORD, JSCLIENT_MODE).
// Protocol: JSON lines. Commands on stdin ({"id", "op", ...}), answers and
// timeline events on stdout; logs on stderr. Driven by tests/support/js_user.py.

import readline from "node:readline";

// stdout carries the protocol only: the SDK logs through console.*, send all of it to stderr.
for (const name of ["log", "info", "debug", "warn", "error", "trace"]) {
    console[name] = (...args) => process.stderr.write(args.map(String).join(" ") + "\n");
}
const emit = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

// matrix-js-sdk 43 targets Node >= 22; on Node 20 this is the only missing piece.
// The SDK is imported dynamically below so the polyfill is in place first
// (static imports would be hoisted above it).
Promise.withResolvers ??= function () {
    let resolve, reject;
    const promise = new this((res, rej) => ((resolve = res), (reject = rej)));
    return { promise, resolve, reject };
};

const sdk = await import("matrix-js-sdk");
const cryptoApi = await import("matrix-js-sdk/lib/crypto-api/index.js");
const { ClientEvent, MatrixEventEvent, RoomEvent, RoomMemberEvent } = sdk;
const { EventShieldColour, EventShieldReason } = cryptoApi;

const [baseUrl, userId, password, mode] = [
    process.argv[2] ?? process.env.JSCLIENT_HOMESERVER,
    process.argv[3] ?? process.env.JSCLIENT_USER,
    process.argv[4] ?? process.env.JSCLIENT_PASSWORD,
    process.argv[5] ?? process.env.JSCLIENT_MODE ?? "strict",
];
if (!baseUrl || !userId || !password || !["strict", "legacy"].includes(mode)) {
    console.error("usage: strict_client.mjs HOMESERVER USER_ID PASSWORD [strict|legacy]");
    process.exit(2);
}

// ---- login, crypto, cross-signing -------------------------------------------

// A password login gives a fresh device, as a new Element session would.
const login = await sdk.createClient({ baseUrl }).loginRequest({
    type: "m.login.password",
    identifier: { type: "m.id.user", user: userId },
    password,
    initial_device_display_name: `jsclient-${mode}`,
});
const client = sdk.createClient({
    baseUrl,
    userId: login.user_id,
    deviceId: login.device_id,
    accessToken: login.access_token,
});
await client.initRustCrypto({ useIndexedDB: false }); // in memory: each process is a new device
const crypto = client.getCrypto();

// UIA for uploading cross-signing keys: Synapse accepts the account's first
// upload without auth (MSC3967) but wants the password when keys are replaced.
async function authWithPassword(makeRequest) {
    try {
        return await makeRequest(null);
    } catch (err) {
        if (err.httpStatus !== 401 || !err.data?.flows) throw err;
        return await makeRequest({
            type: "m.login.password",
            identifier: { type: "m.id.user", user: login.user_id },
            password,
            session: err.data.session,
        });
    }
}
// A new in-memory device never holds the private keys, so this always creates
// a new identity (a reset, if the user had one): use fresh users per test.
await crypto.bootstrapCrossSigning({ setupNewCrossSigning: true, authUploadDeviceSigningKeys: authWithPassword });

crypto.setDeviceIsolationMode(
    mode === "strict"
        ? new cryptoApi.OnlySignedDevicesIsolationMode()
        : new cryptoApi.AllDevicesIsolationMode(false), // what Element uses with the setting off
);

// ---- timeline events -> stdout ----------------------------------------------

async function reportEvent(event) {
    const roomId = event.getRoomId();
    if (!roomId || event.status !== null) return; // local echoes: the remote echo is reported
    const wire = event.getEffectiveEvent(); // clear type and content when decrypted
    const encrypted = event.isEncrypted();
    const failed = event.isDecryptionFailure();
    let shield = null;
    if (encrypted && !failed) {
        const info = await crypto.getEncryptionInfoForEvent(event);
        if (info) {
            shield = {
                colour: EventShieldColour[info.shieldColour],
                reason: info.shieldReason === null ? null : EventShieldReason[info.shieldReason],
            };
        }
    }
    emit({
        event: {
            room_id: roomId,
            event_id: event.getId(),
            sender: event.getSender(),
            type: wire.type,
            state_key: wire.state_key ?? null,
            content: wire.content ?? {},
            origin_server_ts: event.getTs(),
            encrypted,
            decrypted: encrypted && !failed,
            failure: failed ? (event.decryptionFailureReason ?? "UNKNOWN_ERROR") : null,
            shield,
        },
    });
}
const report = (event) => reportEvent(event).catch((err) => console.error("report failed:", err));

// Encrypted events are reported by Decrypted, which fires after every attempt,
// success or failure, and again when a late room key makes a retry succeed.
client.on(MatrixEventEvent.Decrypted, report);
client.on(RoomEvent.Timeline, (event, room, toStartOfTimeline) => {
    if (!toStartOfTimeline && !event.isEncrypted()) report(event);
});
client.on(RoomEvent.MyMembership, (room, membership) => {
    if (membership === "invite") {
        client.joinRoom(room.roomId).catch((err) => console.error(`auto-join ${room.roomId} failed:`, err));
    }
});

const synced = new Promise((resolve) => {
    client.on(ClientEvent.Sync, (state) => state === "PREPARED" && resolve());
});
await client.startClient({ initialSyncLimit: 50 });
await synced;

// Our own device as others will see it: cross-signed by its owner (us).
await crypto.getUserDeviceInfo([login.user_id], true);
const own = await crypto.getDeviceVerificationStatus(login.user_id, login.device_id);
emit({
    ready: true,
    user_id: login.user_id,
    device_id: login.device_id,
    mode,
    cross_signing_ready: await crypto.isCrossSigningReady(),
    signed_by_owner: Boolean(own?.signedByOwner),
});

// ---- commands ---------------------------------------------------------------

// Resolves when check() becomes true, re-checked on every client event that could change it.
function until(check, timeoutMs, what) {
    return new Promise((resolve, reject) => {
        const names = [ClientEvent.Sync, ClientEvent.Room, RoomEvent.Timeline, RoomMemberEvent.Membership];
        const done = (fn, value) => {
            clearTimeout(timer);
            for (const name of names) client.off(name, poll);
            fn(value);
        };
        const poll = () => {
            const value = check();
            if (value) done(resolve, value);
        };
        const timer = setTimeout(() => done(reject, new Error(`timeout waiting for ${what}`)), timeoutMs);
        for (const name of names) client.on(name, poll);
        poll();
    });
}

const membershipOf = (roomId, user) => client.getRoom(roomId)?.getMember(user)?.membership;

const ops = {
    async create_room({ encrypted = true, invite = [], is_direct = false, name, timeout_ms = 30000 }) {
        const initial_state = encrypted
            ? [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }]
            : [];
        const { room_id } = await client.createRoom({
            preset: "private_chat", invite, is_direct, initial_state, ...(name ? { name } : {}),
        });
        // Sending before sync has shown us the room (and its encryption event)
        // would fail or, worse, go out unencrypted.
        await until(() => membershipOf(room_id, login.user_id) === "join"
            && (!encrypted || client.getRoom(room_id).hasEncryptionStateEvent()), timeout_ms, `room ${room_id}`);
        return { room_id };
    },
    async join({ room, timeout_ms = 30000 }) {
        await client.joinRoom(room);
        await until(() => membershipOf(room, login.user_id) === "join", timeout_ms, `joining ${room}`);
        return { room_id: room };
    },
    async wait_joined({ room, user, timeout_ms = 30000 }) {
        await until(() => membershipOf(room, user) === "join", timeout_ms, `${user} joining ${room}`);
        return {};
    },
    async send({ room, body, msgtype = "m.text", content, type = "m.room.message", timeout_ms = 30000 }) {
        await until(() => membershipOf(room, login.user_id) === "join", timeout_ms, `being in ${room}`);
        const { event_id } = await client.sendEvent(room, type, content ?? { msgtype, body });
        return { event_id };
    },
    // What this client knows about someone's devices: is each cross-signed by its owner?
    async devices({ user }) {
        const map = await crypto.getUserDeviceInfo([user], true);
        const devices = [];
        for (const deviceId of map.get(user)?.keys() ?? []) {
            const status = await crypto.getDeviceVerificationStatus(user, deviceId);
            devices.push({ device_id: deviceId, signed_by_owner: Boolean(status?.signedByOwner),
                           cross_signing_verified: Boolean(status?.crossSigningVerified) });
        }
        return { devices };
    },
    async quit() {
        setImmediate(shutdown);
        return {};
    },
};

function shutdown() {
    client.stopClient();
    process.exit(0);
}

const lines = readline.createInterface({ input: process.stdin });
lines.on("line", async (line) => {
    if (!line.trim()) return;
    let cmd;
    try {
        cmd = JSON.parse(line);
    } catch (err) {
        emit({ id: null, ok: false, error: `bad JSON: ${err.message}` });
        return;
    }
    const { id = null, op, ...args } = cmd;
    try {
        if (!Object.hasOwn(ops, op)) throw new Error(`unknown op ${op}`);
        emit({ id, ok: true, ...(await ops[op](args)) });
    } catch (err) {
        emit({ id, ok: false, error: String(err?.message ?? err), errcode: err?.errcode ?? null });
    }
});
lines.on("close", shutdown); // stdin EOF: the test process is gone or done
