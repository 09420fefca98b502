using System.Collections.Generic;
using UnityEditor;
using UnityEngine;

namespace Xo.Tracker.Editor
{
    /// <summary>
    /// Project Settings &gt; Xo Tracker: edits Assets/Resources/XoTrackerSettings.asset (created on
    /// first use), which <see cref="XoTracker.Configure()"/> reads in the Editor and in players.
    /// </summary>
    internal sealed class XoTrackerSettingsProvider : SettingsProvider
    {
        internal const string SettingsPath = "Project/Xo Tracker";
        internal const string AssetPath = "Assets/Resources/" + XoTrackerSettings.ResourceName + ".asset";
        internal static readonly string[] Fields = { "projectId", "transport", "logLevel" };

        private SerializedObject _settings;

        private XoTrackerSettingsProvider()
            : base(SettingsPath, SettingsScope.Project, new HashSet<string> { "Xsolla", "order", "tracker", "project id" })
        {
        }

        /// <summary>Registers the page (Unity finds it by the attribute).</summary>
        [SettingsProvider]
        public static SettingsProvider Create()
        {
            return new XoTrackerSettingsProvider();
        }

        /// <summary>The settings asset, created with defaults when the project has none.</summary>
        internal static XoTrackerSettings GetOrCreate()
        {
            var settings = AssetDatabase.LoadAssetAtPath<XoTrackerSettings>(AssetPath);
            if (settings != null)
                return settings;
            settings = ScriptableObject.CreateInstance<XoTrackerSettings>();
            if (!AssetDatabase.IsValidFolder("Assets/Resources"))
                AssetDatabase.CreateFolder("Assets", "Resources");
            AssetDatabase.CreateAsset(settings, AssetPath);
            AssetDatabase.SaveAssets();
            return settings;
        }

        /// <summary>Draws the settings asset's fields, creating the asset on first use.</summary>
        public override void OnGUI(string searchContext)
        {
            if (_settings == null || _settings.targetObject == null)
                _settings = new SerializedObject(GetOrCreate());
            _settings.Update();
            foreach (var field in Fields)
                EditorGUILayout.PropertyField(_settings.FindProperty(field));
            if (_settings.FindProperty("projectId").longValue <= 0)
                EditorGUILayout.HelpBox("Set the project id: XoTracker.Configure() needs it.", MessageType.Warning);
            _settings.ApplyModifiedProperties();
        }
    }
}
