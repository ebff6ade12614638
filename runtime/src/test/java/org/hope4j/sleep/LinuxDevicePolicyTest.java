package org.hope4j.sleep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LinuxDevicePolicyTest {
    @TempDir
    Path root;

    private void write(String relative, String content) throws IOException {
        Path file = root.resolve(relative);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content, StandardCharsets.US_ASCII);
    }

    private void mains(boolean online) throws IOException {
        write("sys/class/power_supply/AC/type", "Mains\n");
        write("sys/class/power_supply/AC/online", online ? "1\n" : "0\n");
    }

    private void battery(String name, int capacity, String status) throws IOException {
        write("sys/class/power_supply/" + name + "/type", "Battery\n");
        write("sys/class/power_supply/" + name + "/capacity", capacity + "\n");
        write("sys/class/power_supply/" + name + "/status", status + "\n");
    }

    private PolicyOptions options() {
        return PolicyOptions.defaults().withRoot(root).withCores(4);
    }

    private DevicePolicy.Decision check(PolicyOptions options) {
        return new LinuxDevicePolicy(options).check();
    }

    private static Clock at(String time) {
        return Clock.fixed(Instant.parse("2024-05-01T" + time + ":00Z"), ZoneOffset.UTC);
    }

    @Test
    void mainsCoolAndQuietIsAllowedAndSaysWhatItRead() throws IOException {
        mains(true);
        battery("BAT0", 10, "Discharging"); // on mains the battery level does not matter
        write("sys/class/thermal/thermal_zone0/temp", "48000\n");
        write("proc/loadavg", "0.84 0.50 0.30 1/123 4567\n");
        DevicePolicy.Decision d = check(options());
        assertTrue(d.allowed(), d.reason());
        assertEquals("allowed: mains power, 48.0 C, load 0.21/core", d.reason());
    }

    @Test
    void batteryAboveThresholdIsAllowed() throws IOException {
        mains(false);
        battery("BAT0", 80, "Discharging");
        DevicePolicy.Decision d = check(options());
        assertTrue(d.allowed(), d.reason());
        assertEquals("allowed: battery 80%", d.reason());
    }

    @Test
    void batteryBelowThresholdIsVetoed() throws IOException {
        mains(false);
        battery("BAT0", 23, "Discharging");
        DevicePolicy.Decision d = check(options());
        assertFalse(d.allowed());
        assertEquals("not allowed: battery 23% < 50%", d.reason());
        // Exactly at the threshold is enough.
        assertTrue(check(options().withMinBatteryPercent(23)).allowed());
        // Power not required: read, reported, never vetoes.
        DevicePolicy.Decision relaxed = check(options().withRequireMainsOrBattery(false));
        assertTrue(relaxed.allowed(), relaxed.reason());
        assertTrue(relaxed.reason().contains("battery 23%"), relaxed.reason());
    }

    @Test
    void chargingBatteryCountsAsPowered() throws IOException {
        battery("battery", 12, "Charging");
        DevicePolicy.Decision d = check(options());
        assertTrue(d.allowed(), d.reason());
        assertTrue(d.reason().contains("battery 12% charging"), d.reason());
    }

    @Test
    void usbChargerOnlineCountsAsPowered() throws IOException {
        write("sys/class/power_supply/usb/type", "USB\n");
        write("sys/class/power_supply/usb/online", "1\n");
        battery("battery", 5, "Discharging");
        DevicePolicy.Decision d = check(options());
        assertTrue(d.allowed(), d.reason());
        assertTrue(d.reason().startsWith("allowed: usb power"), d.reason());
    }

    @Test
    void peripheralBatteriesAreIgnoredAndSeveralBatteriesAverage() throws IOException {
        battery("BAT0", 40, "Discharging");
        battery("BAT1", 80, "Discharging");
        battery("hidpp_battery_0", 1, "Discharging");
        write("sys/class/power_supply/hidpp_battery_0/scope", "Device\n");
        DevicePolicy.Decision d = check(options());
        assertTrue(d.allowed(), d.reason());
        assertEquals("allowed: battery 60%", d.reason());
    }

    @Test
    void hottestZoneWins() throws IOException {
        write("sys/class/thermal/thermal_zone0/temp", "45000\n");
        write("sys/class/thermal/thermal_zone1/temp", "82500\n");
        write("sys/class/thermal/thermal_zone2/temp", "30000\n");
        write("sys/class/thermal/cooling_device0/cur_state", "0\n"); // not a zone
        DevicePolicy.Decision d = check(options());
        assertFalse(d.allowed());
        assertEquals("not allowed: 82.5 C > 70.0 C (thermal_zone1)", d.reason());
        DevicePolicy.Decision warmer = check(options().withMaxTemperatureC(85));
        assertTrue(warmer.allowed(), warmer.reason());
        assertTrue(warmer.reason().contains("82.5 C"), warmer.reason());
    }

    @Test
    void loadTooHighIsVetoed() throws IOException {
        write("proc/loadavg", "3.00 1.00 0.50 2/300 999\n");
        DevicePolicy.Decision d = check(options());
        assertFalse(d.allowed());
        assertEquals("not allowed: load 0.75/core > 0.50/core", d.reason());
        assertTrue(check(options().withCores(8)).allowed()); // 0.375 per core
        assertTrue(check(options().withMaxLoadPerCore(1.0)).allowed());
    }

    @Test
    void everyVetoIsNamed() throws IOException {
        battery("BAT0", 23, "Discharging");
        write("sys/class/thermal/thermal_zone0/temp", "90000\n");
        write("proc/loadavg", "0.10 0.10 0.10 1/100 1\n");
        DevicePolicy.Decision d = check(options());
        assertFalse(d.allowed());
        assertEquals("not allowed: battery 23% < 50%, 90.0 C > 70.0 C (thermal_zone0)", d.reason());
    }

    @Test
    void windowInsideAndOutside() {
        PolicyOptions day = options().withWindow(LocalTime.of(9, 0), LocalTime.of(17, 0));
        DevicePolicy.Decision inside = check(day.withClock(at("12:00")));
        assertTrue(inside.allowed(), inside.reason());
        assertTrue(inside.reason().contains("in window 09:00-17:00"), inside.reason());
        assertTrue(check(day.withClock(at("09:00"))).allowed()); // from is inclusive
        DevicePolicy.Decision outside = check(day.withClock(at("17:00"))); // to is exclusive
        assertFalse(outside.allowed());
        assertEquals("not allowed: 17:00 outside window 09:00-17:00", outside.reason());
        assertFalse(check(day.withClock(at("03:00"))).allowed());
    }

    @Test
    void windowCrossingMidnight() {
        PolicyOptions night = options().withWindow(LocalTime.of(22, 0), LocalTime.of(6, 0));
        assertTrue(check(night.withClock(at("23:30"))).allowed());
        assertTrue(check(night.withClock(at("00:00"))).allowed());
        assertTrue(check(night.withClock(at("05:59"))).allowed());
        assertFalse(check(night.withClock(at("06:00"))).allowed());
        DevicePolicy.Decision noon = check(night.withClock(at("12:00")));
        assertFalse(noon.allowed());
        assertEquals("not allowed: 12:00 outside window 22:00-06:00", noon.reason());
    }

    @Test
    void windowUsesTheClocksZone() {
        PolicyOptions night = options().withWindow(LocalTime.of(22, 0), LocalTime.of(6, 0));
        // 20:00 UTC is 23:00 at +03:00.
        Clock plus3 = Clock.fixed(Instant.parse("2024-05-01T20:00:00Z"), ZoneOffset.ofHours(3));
        assertTrue(check(night.withClock(plus3)).allowed());
    }

    @Test
    void nothingPresentMeansIdleTimeOnly() {
        DevicePolicy.Decision d = check(options());
        assertTrue(d.allowed());
        assertEquals("allowed: no power, thermal or load readings, idle time only", d.reason());
        // A root that does not exist at all behaves the same.
        DevicePolicy.Decision none = check(options().withRoot(root.resolve("nowhere")));
        assertTrue(none.allowed());
        assertTrue(none.reason().contains("idle time only"), none.reason());
    }

    @Test
    void garbledFilesAreSkippedAndNoted() throws IOException {
        battery("BAT0", 0, "Discharging");
        write("sys/class/power_supply/BAT0/capacity", "lots\n");
        write("sys/class/thermal/thermal_zone0/temp", "hot\n");
        write("sys/class/thermal/thermal_zone1/temp", "41000\n");
        write("proc/loadavg", "\u0000\u0001garbage");
        DevicePolicy.Decision d = check(options());
        assertTrue(d.allowed(), d.reason());
        assertTrue(d.reason().startsWith("allowed: 41.0 C ("), d.reason());
        assertTrue(d.reason().contains("BAT0/capacity unreadable: \"lots\""), d.reason());
        assertTrue(d.reason().contains("thermal_zone0/temp unreadable: \"hot\""), d.reason());
        assertTrue(d.reason().contains("loadavg unreadable"), d.reason());
    }

    @Test
    void implausibleAndEmptyValuesAreNotReadings() throws IOException {
        write("sys/class/thermal/thermal_zone0/temp", "999999999\n");
        write("sys/class/power_supply/BAT0/type", "Battery\n");
        write("sys/class/power_supply/BAT0/capacity", "250\n");
        write("proc/loadavg", "");
        DevicePolicy.Decision d = check(options());
        assertTrue(d.allowed(), d.reason());
        assertTrue(d.reason().startsWith("allowed: no power, thermal or load readings, idle time only ("), d.reason());
        assertTrue(d.reason().contains("thermal_zone0/temp unreadable"), d.reason());
        assertTrue(d.reason().contains("BAT0/capacity unreadable"), d.reason());
    }

    @Test
    void unreadableFilesAreSkippedAndNoted() throws IOException {
        Files.createDirectories(root.resolve("sys/class/power_supply/AC/type")); // a directory, not a file
        Files.createDirectories(root.resolve("proc/loadavg"));
        write("sys/class/thermal/thermal_zone0/temp", "50000\n");
        DevicePolicy.Decision d = check(options());
        assertTrue(d.allowed(), d.reason());
        assertTrue(d.reason().startsWith("allowed: 50.0 C ("), d.reason());
        assertTrue(d.reason().contains("AC/type unreadable"), d.reason());
        assertTrue(d.reason().contains("loadavg unreadable"), d.reason());
    }

    @Test
    void alwaysIsIdleTimeOnly() {
        DevicePolicy.Decision d = DevicePolicy.always().check();
        assertTrue(d.allowed());
        assertTrue(d.reason().contains("idle time only"));
    }

    @Test
    void optionsAreValidated() {
        PolicyOptions o = PolicyOptions.defaults();
        assertEquals(Path.of("/"), o.root());
        assertTrue(o.requireMainsOrBattery());
        assertEquals(50, o.minBatteryPercent());
        assertEquals(70.0, o.maxTemperatureC());
        assertEquals(0.5, o.maxLoadPerCore());
        assertEquals(null, o.from());
        assertThrows(IllegalArgumentException.class, () -> o.withMinBatteryPercent(101));
        assertThrows(IllegalArgumentException.class, () -> o.withMinBatteryPercent(-1));
        assertThrows(IllegalArgumentException.class, () -> o.withMaxLoadPerCore(0));
        assertThrows(IllegalArgumentException.class, () -> o.withMaxTemperatureC(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> o.withCores(-1));
        assertThrows(IllegalArgumentException.class, () -> o.withWindow(LocalTime.NOON, null));
        assertThrows(IllegalArgumentException.class, () -> o.withWindow(LocalTime.NOON, LocalTime.NOON));
        assertThrows(IllegalArgumentException.class, () -> o.withRoot(null));
        assertThrows(IllegalArgumentException.class, () -> o.withClock(null));
        assertThrows(IllegalArgumentException.class, () -> new LinuxDevicePolicy(null));
        assertEquals(LocalTime.of(1, 0), o.withWindow(LocalTime.of(1, 0), LocalTime.of(2, 0)).from());
    }
}
