"""Every configuration key Debian's hostapd 2.10 accepts, so the linter can say what hostapd would refuse.

Taken from the keys documented in hostapd 2.10's example hostapd.conf (``/usr/share/doc/hostapd/examples``),
less the eight that Debian's build leaves out (TEAP, P2P cross-connection, PASN comeback: hostapd says
"unknown configuration item" for them), plus ``hs20_release``. tests/passpoint/test_hostapd_keys.py feeds
every key to the real hostapd and fails if it calls any of them unknown.
"""

from __future__ import annotations

KNOWN_KEYS = frozenset(
    """
    accept_mac_file access_network_type acct_server_addr acct_server_port acct_server_shared_secret acs_chan_bias
    acs_exclude_6ghz_non_psc acs_exclude_dfs acs_num_scans airtime_bss_limit airtime_bss_weight airtime_mode
    airtime_sta_weight airtime_update_interval anqp_3gpp_cell_net anqp_domain_id anqp_elem anti_clogging_threshold
    ap_isolate ap_max_inactivity ap_pin ap_settings ap_setup_locked ap_table_expiration_time ap_table_max_size asra
    assoc_sa_query_max_timeout assoc_sa_query_retry_timeout assocresp_elements auth_algs auth_server_addr
    auth_server_port auth_server_shared_secret basic_rates beacon_int beacon_prot beacon_rate bridge
    broadcast_deauth bss bss_load_test bss_load_update_period bss_transition bssid ca_cert chan_util_avg_period
    chanlist channel check_cert_subject check_crl check_crl_strict civic config_methods
    corrupt_gtk_rekey_mic_probability country3 country_code ctrl_interface ctrl_interface_group deny_mac_file
    device_name device_type dh_file dhcp_rapid_commit_proxy dhcp_relay_port dhcp_server dhcp_server_port
    disable_11ac disable_11ax disable_11n disable_dgaf disable_pmksa_caching disassoc_low_ack domain_name
    dpp_configurator_connectivity dpp_mud_url dpp_name dpp_pfs driver driver_params dtim_period dynamic_vlan
    eap_fast_a_id eap_fast_a_id_info eap_fast_prov eap_message eap_reauth_period eap_server eap_server_erp
    eap_sim_aka_result_ind eap_sim_db eap_sim_db_timeout eap_sim_id eap_user_file eapol_key_index_workaround
    eapol_version ecsa_ie_only edmg_channel enable_edmg erp_domain erp_send_reauth_start esr extended_key_id
    extra_cred fils_cache_id fils_dh_group fils_discovery_max_interval fils_discovery_min_interval
    fils_hlp_wait_time fils_realm fragm_threshold fragment_size freqlist friendly_name fst_group_id fst_llt
    fst_priority ft_over_ds ft_psk_generate_local ft_r0_key_lifetime ftm_initiator ftm_responder gas_address3
    group_cipher group_mgmt_cipher he_6ghz_max_ampdu_len_exp he_6ghz_max_mpdu he_6ghz_rx_ant_pat he_6ghz_tx_ant_pat
    he_bss_color he_bss_color_partial he_default_pe_duration he_er_su_disable he_mu_beamformer
    he_mu_edca_ac_be_aifsn he_mu_edca_ac_be_ecwmax he_mu_edca_ac_be_ecwmin he_mu_edca_ac_be_timer
    he_mu_edca_ac_bk_aci he_mu_edca_ac_bk_aifsn he_mu_edca_ac_bk_ecwmax he_mu_edca_ac_bk_ecwmin
    he_mu_edca_ac_bk_timer he_mu_edca_ac_vi_aci he_mu_edca_ac_vi_aifsn he_mu_edca_ac_vi_ecwmax
    he_mu_edca_ac_vi_ecwmin he_mu_edca_ac_vi_timer he_mu_edca_ac_vo_aci he_mu_edca_ac_vo_aifsn
    he_mu_edca_ac_vo_ecwmax he_mu_edca_ac_vo_ecwmin he_mu_edca_ac_vo_timer he_mu_edca_qos_info_queue_request
    he_rts_threshold he_spr_srg_bss_colors he_spr_srg_partial_bssid he_su_beamformee he_su_beamformer
    he_twt_required he_twt_responder hessid hs20 hs20_conn_capab hs20_deauth_req_timeout hs20_icon
    hs20_oper_friendly_name hs20_operating_class hs20_release hs20_t_c_filename hs20_t_c_server_url
    hs20_t_c_timestamp hs20_wan_metrics ht_capab hw_mode ieee80211ac ieee80211ax ieee80211d ieee80211h ieee80211n
    ieee80211w ieee8021x ignore_assoc_probability ignore_auth_probability ignore_broadcast_ssid
    ignore_probe_probability ignore_reassoc_probability interface internet interworking ipaddr_type_availability lci
    local_pwr_constraint logger_stdout logger_stdout_level logger_syslog logger_syslog_level macaddr_acl
    manufacturer manufacturer_url max_auth_rounds max_auth_rounds_short max_listen_interval max_num_sta mbo
    mbo_cell_data_conn_pref min_tx_power mobility_domain model_description model_name model_number model_url
    multi_ap multi_ap_backhaul_ssid multi_ap_backhaul_wpa_passphrase multi_ap_backhaul_wpa_psk multicast_to_unicast
    na_mcast_to_ucast nai_realm nas_identifier network_auth_type no_auth_if_seen_on no_probe_resp_if_max_sta
    no_probe_resp_if_seen_on notify_mgmt_frames obss_interval oce ocsp_stapling_response
    ocsp_stapling_response_multi ocv okc op_class openssl_ciphers openssl_ecdh_curves operator_icon os_version osen
    osu_friendly_name osu_icon osu_method_list osu_nai osu_nai2 osu_server_uri osu_service_desc osu_ssid owe_groups
    owe_ptk_workaround owe_transition_bssid owe_transition_ifname owe_transition_ssid own_ip_addr pac_key_lifetime
    pac_key_refresh_time pac_opaque_encr_key pbc_in_m1 per_sta_vif pmk_r1_push preamble private_key private_key2
    private_key_passwd private_key_passwd2 proxy_arp pwd_group qos_map_set r0kh r1_key_holder r1_max_key_lifetime
    r1kh radius_acct_interim_interval radius_acct_req_attr radius_auth_req_attr radius_client_addr radius_client_dev
    radius_das_client radius_das_port radius_das_require_event_timestamp radius_das_require_message_authenticator
    radius_das_time_window radius_req_attr_sqlite radius_request_cui radius_retry_primary_interval
    radius_server_acct_port radius_server_auth_port radius_server_clients radius_server_ipv6 reassociation_deadline
    require_ht require_vht rkh_neg_timeout rkh_pos_timeout rkh_pull_retries rkh_pull_timeout rnr roaming_consortium
    rrm_beacon_report rrm_neighbor_report rsn_pairwise rsn_preauth rsn_preauth_interfaces rssi_ignore_probe_request
    rssi_reject_assoc_rssi rssi_reject_assoc_timeout rts_threshold sae_anti_clogging_threshold sae_confirm_immediate
    sae_groups sae_password sae_pwe sae_require_mfp sae_sync serial_number server_cert server_cert2 server_id
    skip_cred_build skip_inactivity_poll spectrum_mgmt_required ssid ssid2 start_disabled stationary_ap
    supported_rates tdls_prohibit tdls_prohibit_chan_switch time_advertisement time_zone tls_flags
    tls_session_lifetime tnc track_sta_max_age track_sta_max_num transition_disable tx_queue_data0_aifs
    tx_queue_data0_burst tx_queue_data0_cwmax tx_queue_data0_cwmin tx_queue_data1_aifs tx_queue_data1_burst
    tx_queue_data1_cwmax tx_queue_data1_cwmin tx_queue_data2_aifs tx_queue_data2_burst tx_queue_data2_cwmax
    tx_queue_data2_cwmin tx_queue_data3_aifs tx_queue_data3_burst tx_queue_data3_cwmax tx_queue_data3_cwmin
    uapsd_advertisement_enabled uesa unsol_bcast_probe_resp_interval upc upnp_iface use_pae_group_addr use_sta_nsts
    utf8_ssid uuid vendor_elements venue_group venue_name venue_type venue_url vht_capab
    vht_oper_centr_freq_seg0_idx vht_oper_centr_freq_seg1_idx vht_oper_chwidth vlan_bridge vlan_file vlan_naming
    vlan_tagged_interface wds_bridge wds_sta wep_default_key wep_key0 wep_key1 wep_key2 wep_key3
    wep_key_len_broadcast wep_key_len_unicast wep_rekey_period wmm_ac_be_acm wmm_ac_be_aifs wmm_ac_be_cwmax
    wmm_ac_be_cwmin wmm_ac_be_txop_limit wmm_ac_bk_acm wmm_ac_bk_aifs wmm_ac_bk_cwmax wmm_ac_bk_cwmin
    wmm_ac_bk_txop_limit wmm_ac_vi_acm wmm_ac_vi_aifs wmm_ac_vi_cwmax wmm_ac_vi_cwmin wmm_ac_vi_txop_limit
    wmm_ac_vo_acm wmm_ac_vo_aifs wmm_ac_vo_cwmax wmm_ac_vo_cwmin wmm_ac_vo_txop_limit wmm_enabled wnm_sleep_mode
    wnm_sleep_mode_no_keys wpa wpa_deny_ptk0_rekey wpa_disable_eapol_key_retries wpa_gmk_rekey wpa_group_rekey
    wpa_group_update_count wpa_key_mgmt wpa_pairwise wpa_pairwise_update_count wpa_passphrase wpa_psk wpa_psk_file
    wpa_psk_radius wpa_ptk_rekey wpa_strict_rekey wps_application_ext wps_cred_add_sae wps_cred_processing
    wps_independent wps_pin_requests wps_rf_bands wps_state
    """.split()  # noqa: SIM905 (a word list reads better than 425 quoted strings)
)
