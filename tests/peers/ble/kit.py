#!/usr/bin/python3
"""A simulated patient kit on python3-dbusmock's bluez5 template (tests and scripts/demo.sh).

The bluez5 template gives the adapter, discovery and the agent manager. Health devices are added here
as whole objects (GATT service and characteristics first, the device last), so a driver that reacts to
InterfacesAdded never sees half a device. Connect sets Connected and ServicesResolved (the template's
never sets ServicesResolved), StartNotify sets Notifying, WriteValue keeps the last value written in
the extra property WrittenValue. Values are sent with the mock's UpdateProperties, which emits
PropertiesChanged as bluetoothd does for a notification or indication.

Run with /usr/bin/python3 (needs python3-dbus) and DBUS_SYSTEM_BUS_ADDRESS set to the private bus.

  kit.py setup [--paired] ADDR,NAME,KIND[,dis][,uds] ...
                                               KIND: bp | thermo | glucose; dis adds a Device Information
                                               Service (and Battery1 at 87 %), uds a User Data Service whose
                                               control point answers as a real one does (see UDS_CONTROL_POINT)
  kit.py notify ADDR UUID HEX                  e.g. notify AA:..:01 2A35 1e780050005d00...
  kit.py disconnect ADDR
  kit.py advertise ADDR RSSI
  kit.py wait-notifying ADDR UUID [SECONDS]
  kit.py written ADDR UUID                     prints the last value written (hex) or nothing
  kit.py wait-bluez [SECONDS]
  kit.py hex-bp SYS DIA PULSE MINUTES_AGO      a Blood Pressure Measurement stamped (UTC) minutes ago
  kit.py hex-temp TENTHS_CELSIUS MINUTES_AGO   a Temperature Measurement likewise
  kit.py stream ADDR EPOCH_S MEMORY_FROM FIRST COUNT INTERVAL_MS
                                               a blood pressure monitor measuring at a steady pace: see stream()
"""
import datetime
import struct
import sys
import time

import dbus

MOCK = 'org.freedesktop.DBus.Mock'
BLUEZ_MOCK = 'org.bluez.Mock'
DEVICE = 'org.bluez.Device1'
SERVICE = 'org.bluez.GattService1'
CHAR = 'org.bluez.GattCharacteristic1'
ADAPTER = 'hci0'
BASE = '-0000-1000-8000-00805f9b34fb'

# Services and characteristics per kind of device: (service, [(characteristic, flags)]).
KINDS = {
    'bp': ('1810', [('2a35', ['indicate']), ('2a36', ['notify']), ('2a49', ['read']), ('2a2b', ['read', 'write', 'notify'])]),
    'thermo': ('1809', [('2a1c', ['indicate']), ('2a1d', ['read']), ('2a2b', ['read', 'write', 'notify'])]),
    'glucose': ('1808', [('2a18', ['notify']), ('2a52', ['write', 'indicate'])]),
}


# Device Information Service (0x180A) values; the serial number and system id end with the address's last byte.
DIS = [('2a29', b'CareHub Kit Ltd'), ('2a24', b'BPM-2U'), ('2a26', b'1.0.3'), ('2a27', b'B'), ('2a28', b'2.4')]

# User Control Point (0x2A9F) of the kit's UDS devices, run by dbusmock inside WriteValue: Register New User
# (0x01, consent code) gives the next free index 1, 2, ...; Consent (0x02, index, code) succeeds only with
# the code that user registered with (else 0x05 User Not Authorized); Delete User Data (0x03) succeeds; any
# other op code is 0x02 Op Code Not Supported. Each answer is indicated as Response Code (0x20, request op
# code, response value[, new index]), as UDS 1.0 section 3.4 lays out. Users given in `setup` with
# uds=INDEX:CODE exist from the start (a monitor registered before the hub came).
UDS_CONTROL_POINT = """
v = bytes(args[0])
users = self.__dict__.setdefault('uds_users', dict(self.props['%(char)s'].get('PresetUsers', {})))
op = v[0] if v else 0
if op == 1 and len(v) >= 3:
    idx = max(list(users.keys()) + [0]) + 1
    users[idx] = v[1] | (v[2] << 8)
    r = [0x20, 1, 1, idx]
elif op == 2 and len(v) >= 4:
    r = [0x20, 2, 1 if users.get(v[1]) == (v[2] | (v[3] << 8)) else 5]
elif op == 3:
    r = [0x20, 3, 1]
else:
    r = [0x20, op, 2]
self.props['%(char)s']['WrittenValue'] = dbus.Array(v, signature='y')
self.UpdateProperties('%(char)s', {'Value': dbus.Array(r, signature='y')})
"""


def uuid(short):
    return '0000' + short.lower() + BASE


def bus():
    return dbus.SystemBus()


def wait_bluez(seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            b = bus()
            if b.name_has_owner('org.bluez'):
                return b
        except dbus.exceptions.DBusException:
            pass
        time.sleep(0.02)  # polling the bus for a name with a deadline, not a guess at timing
    sys.exit('org.bluez did not appear on the bus')


def device_path(addr):
    return '/org/bluez/%s/dev_%s' % (ADAPTER, addr.upper().replace(':', '_'))


def char_path(addr, short):
    """The characteristic with UUID `short` under the device, looked up on the bus."""
    objects = dbus.Interface(bus().get_object('org.bluez', '/'), 'org.freedesktop.DBus.ObjectManager').GetManagedObjects()
    prefix = device_path(addr) + '/'
    for path, ifaces in objects.items():
        if path.startswith(prefix) and CHAR in ifaces and str(ifaces[CHAR]['UUID']) == uuid(short):
            return str(path)
    raise SystemExit('%s has no characteristic %s' % (addr, short))


def mock(b, path):
    return dbus.Interface(b.get_object('org.bluez', path), MOCK)


def add(top, path, iface, props, methods):
    """AddObject, then InterfacesAdded: dbusmock's AddObject does not emit it by itself."""
    top.AddObject(path, iface, props, methods)
    top.EmitSignal('org.freedesktop.DBus.ObjectManager', 'InterfacesAdded', 'oa{sa{sv}}',
                   [dbus.ObjectPath(path),
                    dbus.Dictionary({iface: dbus.Dictionary(props, signature='sv')}, signature='sa{sv}')])


def setup(args):
    paired = '--paired' in args
    specs = [a for a in args if a != '--paired']
    b = wait_bluez()
    root = dbus.Interface(b.get_object('org.bluez', '/'), BLUEZ_MOCK)
    objects = dbus.Interface(b.get_object('org.bluez', '/'), 'org.freedesktop.DBus.ObjectManager').GetManagedObjects()
    if '/org/bluez/' + ADAPTER not in objects:
        root.AddAdapter(ADAPTER, 'carehub-hub')
    top = mock(b, '/')
    for spec in specs:
        addr, name, kind, *features = spec.split(',')
        dev = device_path(addr)
        svc_uuid, chars = KINDS[kind]
        last = int(addr.split(':')[-1], 16)
        # GATT first, the device last: whoever sees the device sees its services complete.
        services = [('0010', svc_uuid, [(c, flags, b'') for c, flags in chars])]
        if 'dis' in features:
            values = DIS + [('2a25', b'SN-%04d' % last), ('2a23', bytes([last, 2, 3, 4, 5, 0x06, 0x07, 0x08]))]
            services.append(('0020', '180a', [(c, ['read'], v) for c, v in values]))
        uds = [f for f in features if f.startswith('uds')]
        if uds:
            services.append(('0030', '181c', [('2a9f', ['write', 'indicate'], b''), ('2a9a', ['read'], b'\xff'),
                                              ('2a99', ['read', 'write', 'notify'], b'\0\0\0\0')]))
        presets = dict((int(i), int(c)) for f in uds if '=' in f for i, c in [f.split('=', 1)[1].split(':')])
        for sid, suuid, schars in services:
            svc = dev + '/service' + sid
            add(top, svc, SERVICE, {'UUID': uuid(suuid), 'Primary': True, 'Device': dbus.ObjectPath(dev)}, [])
            for i, (c, flags, value) in enumerate(schars):
                write = "self.props['%s']['WrittenValue'] = dbus.Array(args[0], signature='y')" % CHAR
                props = {
                    'UUID': uuid(c),
                    'Service': dbus.ObjectPath(svc),
                    'Value': dbus.Array(value, signature='y'),
                    'Notifying': False,
                    'Flags': dbus.Array(flags, signature='s'),
                }
                if c == '2a9f':
                    write = UDS_CONTROL_POINT % {'char': CHAR}
                    props['PresetUsers'] = dbus.Dictionary(presets, signature='yq')
                add(top, svc + '/char%04x' % (int(sid, 16) + 1 + i), CHAR, props, [
                    ('StartNotify', '', '', "self.UpdateProperties('%s', {'Notifying': dbus.Boolean(True)})" % CHAR),
                    ('StopNotify', '', '', "self.UpdateProperties('%s', {'Notifying': dbus.Boolean(False)})" % CHAR),
                    ('ReadValue', 'a{sv}', 'ay', "ret = self.props['%s']['Value']" % CHAR),
                    ('WriteValue', 'aya{sv}', '', write),
                ])
        device_props = {
            'Address': addr.upper(),
            'AddressType': 'public',
            'Name': name,
            'Alias': name,
            'Adapter': dbus.ObjectPath('/org/bluez/' + ADAPTER),
            'UUIDs': dbus.Array([uuid(svc_uuid)], signature='s'),
            'Paired': paired,
            'Trusted': paired,
            'Connected': False,
            'ServicesResolved': False,
            'RSSI': dbus.Int16(-60),
        }
        add(top, dev, DEVICE, device_props, [
            ('Connect', '', '',
             "self.UpdateProperties('%s', {'Connected': dbus.Boolean(True), 'ServicesResolved': dbus.Boolean(True)})" % DEVICE),
            ('Disconnect', '', '',
             "self.UpdateProperties('%s', {'Connected': dbus.Boolean(False), 'ServicesResolved': dbus.Boolean(False)})" % DEVICE),
            ('Pair', '', '', "self.UpdateProperties('%s', {'Paired': dbus.Boolean(True)})" % DEVICE),
            ('CancelPairing', '', '', ''),
        ])
        if 'dis' in features:
            # bluetoothd's battery plugin shows the Battery Service as Battery1 on the device object.
            battery = {'Percentage': dbus.Byte(87)}
            mock(b, dev).AddProperties('org.bluez.Battery1', battery)
            top.EmitSignal('org.freedesktop.DBus.ObjectManager', 'InterfacesAdded', 'oa{sa{sv}}',
                           [dbus.ObjectPath(dev),
                            dbus.Dictionary({'org.bluez.Battery1': dbus.Dictionary(battery, signature='sv')}, signature='sa{sv}')])
    print('ok', flush=True)


def notify(addr, short, hexvalue):
    b = wait_bluez()
    value = dbus.Array(bytes.fromhex(hexvalue), signature='y')
    mock(b, char_path(addr, short)).UpdateProperties(CHAR, {'Value': value})
    print('ok', flush=True)


def disconnect(addr):
    b = wait_bluez()
    objects = dbus.Interface(b.get_object('org.bluez', '/'), 'org.freedesktop.DBus.ObjectManager').GetManagedObjects()
    for path, ifaces in objects.items():
        if path.startswith(device_path(addr) + '/') and CHAR in ifaces:
            mock(b, path).UpdateProperties(CHAR, {'Notifying': dbus.Boolean(False)})
    mock(b, device_path(addr)).UpdateProperties(DEVICE, {'Connected': False, 'ServicesResolved': False})
    print('ok', flush=True)


def advertise(addr, rssi):
    b = wait_bluez()
    mock(b, device_path(addr)).UpdateProperties(DEVICE, {'RSSI': dbus.Int16(int(rssi))})
    print('ok', flush=True)


def get(b, path, iface, prop):
    return dbus.Interface(b.get_object('org.bluez', path), dbus.PROPERTIES_IFACE).Get(iface, prop)


def wait_notifying(addr, short, seconds=10.0):
    b = wait_bluez()
    deadline = time.monotonic() + float(seconds)
    while time.monotonic() < deadline:
        if bool(get(b, char_path(addr, short), CHAR, 'Notifying')):
            print('ok', flush=True)
            return
        time.sleep(0.02)
    sys.exit('%s %s: not notifying' % (addr, short))


def written(addr, short):
    b = wait_bluez()
    try:
        print(bytes(get(b, char_path(addr, short), CHAR, 'WrittenValue')).hex(), flush=True)
    except dbus.exceptions.DBusException:
        print('', flush=True)


def stamp(minutes_ago):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=float(minutes_ago))
    return struct.pack('<HBBBBB', t.year, t.month, t.day, t.hour, t.minute, t.second)


def hex_bp(sys_, dia, pulse, minutes_ago):
    mean = (int(sys_) + 2 * int(dia)) // 3
    # flags 0x06: mmHg, time stamp, pulse rate; SFLOAT with exponent 0 is the plain integer.
    return (struct.pack('<BHHH', 0x06, int(sys_), int(dia), mean) + stamp(minutes_ago) + struct.pack('<H', int(pulse))).hex()


def hex_temp(tenths, minutes_ago):
    # flags 0x02: Celsius, time stamp; FLOAT mantissa (24 bits) with exponent -1.
    return (struct.pack('<B', 0x02) + (int(tenths) & 0xFFFFFF).to_bytes(3, 'little') + b'\xff' + stamp(minutes_ago)).hex()


def bp_record(epoch_s, i):
    """Record i of a streaming monitor: stamped EPOCH_S + i seconds (UTC), so each is a distinct reading."""
    t = datetime.datetime.fromtimestamp(int(epoch_s) + i, datetime.timezone.utc)
    sys_, dia, pulse = 100 + i % 60, 60 + i % 30, 55 + i % 40
    return (struct.pack('<BHHH', 0x06, sys_, dia, (sys_ + 2 * dia) // 3) +
            struct.pack('<HBBBBB', t.year, t.month, t.day, t.hour, t.minute, t.second) + struct.pack('<H', pulse))


def stream(addr, epoch_s, memory_from, first, count, interval_ms):
    """A monitor that keeps its records: on (re)connect it resends its memory (records MEMORY_FROM..FIRST-1,
    then everything it measured since), then indicates records FIRST..FIRST+COUNT-1 every INTERVAL_MS.

    Prints "memory N" once the memory is resent, "sent I" after each live record BlueZ took, "done" at
    the end. When bluetoothd goes away (or the hub stops listening) it waits for a hub subscribed again
    (Notifying on the bus, polled with a deadline) and resends its memory first, as real monitors do.
    The interval is the device's measuring pace, not a wait for anything."""
    memory_from, first, count, interval = int(memory_from), int(first), int(count), float(interval_ms) / 1000.0
    b = wait_bluez(30)
    short = '2a35'

    def char():
        return mock(b, char_path(addr, short))

    def notifying():
        try:
            return bool(get(b, char_path(addr, short), CHAR, 'Notifying'))
        except (dbus.exceptions.DBusException, SystemExit):
            return False

    def send(c, i):
        c.UpdateProperties(CHAR, {'Value': dbus.Array(bp_record(epoch_s, i), signature='y')})

    def resend(upto):
        deadline = time.monotonic() + 60
        while True:
            if time.monotonic() > deadline:
                sys.exit('%s: no hub subscribed again' % addr)
            if notifying():
                try:
                    c = char()
                    for i in range(memory_from, upto):
                        send(c, i)
                    return c
                except dbus.exceptions.DBusException:
                    pass
            time.sleep(0.02)  # polling the bus for a subscriber with a deadline

    c = resend(first)
    print('memory %d' % (first - memory_from), flush=True)
    for i in range(first, first + count):
        if i > first:
            time.sleep(interval)
        while True:
            try:
                if not notifying():
                    raise dbus.exceptions.DBusException('not notifying')
                send(c, i)
                break
            except dbus.exceptions.DBusException:
                c = resend(i)  # disconnected: on the next connect, the memory first
        print('sent %d' % i, flush=True)
    print('done', flush=True)


def main(argv):
    if not argv:
        sys.exit(__doc__)
    cmd, args = argv[0], argv[1:]
    if cmd == 'setup':
        setup(args)
    elif cmd == 'notify':
        notify(*args)
    elif cmd == 'disconnect':
        disconnect(*args)
    elif cmd == 'advertise':
        advertise(*args)
    elif cmd == 'wait-notifying':
        wait_notifying(*args)
    elif cmd == 'written':
        written(*args)
    elif cmd == 'stream':
        stream(*args)
    elif cmd == 'hex-bp':
        print(hex_bp(*args))
    elif cmd == 'hex-temp':
        print(hex_temp(*args))
    elif cmd == 'wait-bluez':
        wait_bluez(*(float(a) for a in args))
        print('ok', flush=True)
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main(sys.argv[1:])
